// The steps of the internal (sidecar-to-sidecar) listener, each one behaviour: answering errors,
// proving the caller is a sidecar, checking the call is for this app, routing the method path,
// and stamping caller and callee, before the call to the local app (steps both listeners share
// are in shared-steps.ts). Their order is written in proxy/stack.ts.

import { asSidecarError, errorResponse, invokeError, NOT_DELIVERED_HEADER, SidecarError } from "../../core/errors.ts";
import { responseHeaders } from "../../core/wire-response.ts";
import { type Call, newCallContext } from "../../core/call.ts";
import { RECEIPT_HEADER } from "../../core/connection-error.ts";
import type { throttledInfo } from "../../core/log.ts";
import { PEER_TOKEN_HEADER, sameSecret } from "../../transport/peer-secret.ts";
import type { SidecarConfig } from "../config.ts";
import type { Tracing } from "../../observability/tracing.ts";
import { normalizeMethod, splitUrl } from "../route.ts";
import type { Caller, EdgeCall, EdgeStep } from "./context.ts";
import { type AccessControl, type Decision, decide } from "../../security/acl/policy.ts";
import { formatSpiffe } from "../../security/spiffe.ts";
import { inboundMetrics } from "../../observability/metrics-layers.ts";
import type { HttpMetrics } from "../../observability/http-metrics.ts";
import { describeMemoryGuard, type MemoryGuard } from "../memory-guard.ts";

export interface InboundDeps {
  readonly cfg: SidecarConfig;
  /** Spans and export (NO_TRACING when off). */
  readonly tracing: Tracing;
  /** True when the internal port is mTLS: the caller is who its verified certificate says. */
  readonly mtls: boolean;
  /** The access control in force (one reference, swapped on reload). */
  readonly acl: () => AccessControl | null;
  /** Told every access decision (metrics; denials are logged by `respond`). */
  readonly onAccess?: (d: Decision, caller: Caller | null, verb: string) => void;
  /** Failure lines, at most one per reason per 10 s. */
  readonly logFailure: ReturnType<typeof throttledInfo>;
  /** The call to the local app (bounded by --app-timeout). */
  readonly toApp: Call;
  /** Dapr's metric families; null with --enable-metrics=false. */
  readonly metrics: HttpMetrics | null;
  /** Set when the sidecar starts stopping; `seen` counts calls, so the stop can wait for quiet. */
  readonly gate: DrainGate;
  /** --max-memory's guard; null when off. */
  readonly memory: MemoryGuard | null;
}

export interface DrainGate {
  draining: boolean;
  seen: number;
}

const PEER_TOKEN_FILE_HINT = "$MESHLET_HOME/peer-secret, or MESHLET_PEER_SECRET_FILE";

export const INBOUND_METRICS: EdgeStep<InboundDeps> = {
  name: "metrics",
  why: "outside respond: it counts every answer the calling sidecar got, refusals included, by the caller it proved to be",
  describe: "dapr_runtime_service_invocation_req_recv_total / res_sent_total by caller app-id and status",
  layer: (d) => (d.metrics ? inboundMetrics(d.metrics) : (next) => next),
};

export const RESPOND_INBOUND: EdgeStep<InboundDeps> = {
  name: "respond",
  why: "outermost: the one place a sidecar error becomes Dapr's JSON answer with its reason, which the calling sidecar relays",
  describe: "errors -> Dapr JSON with meshlet-reason; one that never reached the app also carries meshlet-not-delivered, so the caller may send it to another instance",
  layer: (d) => (next) => async (req, ctx) => {
    try {
      return await next(req, ctx);
    } catch (e) {
      const err = asSidecarError(e);
      if (err.reason !== "client_closed") d.logFailure(err.reason, "call not delivered to the app", {
          reason: err.reason,
          caller: ctx.caller?.appId ?? "?",
          method: ctx.path,
          error: err.message,
          trace_id: ctx.traceparent?.slice(3, 35),
        });
      const res = errorResponse(err);
      if (err.neverSent) responseHeaders(res).set(NOT_DELIVERED_HEADER, "1");
      return res;
    }
  },
};

export const PEER_IDENTITY: EdgeStep<InboundDeps> = {
  name: "peer-identity",
  why: "before anything else is read: only sidecars may call this port, and who calls comes from what they proved, never from a header",
  describe:
    "mTLS: the caller is the SPIFFE id of its verified certificate (the listener already refused untrusted or certificate-less clients); without mTLS, meshlet-peer-token must carry this host's peer secret: 403 peer_unauthenticated otherwise",
  layer: (d) => {
    if (d.mtls) {
      return (next) => (req, ctx) => {
        const id = req.peer.identity;
        if (!id) {
          return Promise.reject(new SidecarError("peer_unauthenticated", "the caller's certificate is trusted but names no SPIFFE id (spiffe://<trust-domain>/ns/<namespace>/<app-id>)"));
        }
        ctx.caller = { appId: id.appId, namespace: id.namespace, trustDomain: id.trustDomain, verified: true };
        return next(req, ctx);
      };
    }
    const secret = d.cfg.peerSecret;
    return (next) => (req, ctx) => {
      if (secret !== undefined && !sameSecret(req.headers.get(PEER_TOKEN_HEADER), secret)) {
        return Promise.reject(
          new SidecarError(
            "peer_unauthenticated",
            `the caller did not prove it is a sidecar of this host: it sent no valid peer secret (give every host the same ${PEER_TOKEN_FILE_HINT})`,
          ),
        );
      }
      // Who calls is what the calling sidecar says: informational until a certificate proves it.
      const appId = req.headers.get("dapr-caller-app-id");
      if (appId) ctx.caller = { appId, namespace: req.headers.get("dapr-caller-namespace") ?? "", trustDomain: "", verified: false };
      return next(req, ctx);
    };
  },
};

export const DRAIN: EdgeStep<InboundDeps> = {
  name: "drain",
  why: "once the caller is proven, before anything reaches the app: a sidecar that is stopping refuses new calls as never delivered, so callers still sending move them to another instance instead of racing its connections' close",
  describe: "while this sidecar stops (deregistered, lingering until callers go quiet): 503 shutting_down with meshlet-not-delivered",
  layer: (d) => {
    const g = d.gate;
    return (next) => (req, ctx) => {
      g.seen++;
      if (!g.draining) return next(req, ctx);
      return Promise.reject(invokeError("shutting_down", d.cfg.appId, "this sidecar is shutting down; the call did not reach the app", { neverSent: true }));
    };
  },
};

export const MEMORY_GUARD_INBOUND: EdgeStep<InboundDeps> = {
  name: "memory-guard",
  why: "beside drain, before anything reaches the app: a peer's call refused for memory is marked never delivered, so its caller sends it to another instance at once",
  describe: `${describeMemoryGuard}, marked meshlet-not-delivered`,
  layer: (d) => {
    const g = d.memory;
    if (!g) return (next) => next;
    return (next) => (req, ctx) => {
      if (!g.shedding) return next(req, ctx);
      return Promise.reject(g.refuse(d.cfg.appId, true));
    };
  },
};

export const CALLEE_CHECK: EdgeStep<InboundDeps> = {
  name: "callee-check",
  why: "a call meant for another app-id (an address reused after a restart) is refused, so the caller evicts the stale endpoint",
  describe: "dapr-callee-app-id and namespace must be this sidecar's: 500 wrong_target otherwise",
  layer: (d) => (next) => (req, ctx) => {
    const { appId, namespace } = d.cfg;
    const calleeId = req.headers.get("dapr-callee-app-id");
    const calleeNs = req.headers.get("dapr-callee-namespace") ?? namespace;
    if (calleeId !== appId || calleeNs !== namespace) {
      return Promise.reject(invokeError("wrong_target", calleeId ?? "?", `this sidecar serves ${appId}.${namespace}, not ${calleeId}.${calleeNs}`));
    }
    return next(req, ctx);
  },
};

export const ROUTE_INBOUND: EdgeStep<InboundDeps> = {
  name: "route",
  why: "the method path is checked again on this side: it never climbs above the app's root",
  describe: "dot segments resolved or refused (invalid_method); a caller that asked for a delivery receipt (meshlet-receipt) gets 102 Processing right before the app gets its request",
  layer: (d) => (next) => (req, ctx) => {
    const { path: raw, query } = splitUrl(req.target);
    const path = normalizeMethod(raw);
    if (path === null) return Promise.reject(invokeError("invalid_method", d.cfg.appId, `invalid method: ${raw}`));
    ctx.path = path;
    ctx.query = query;
    ctx.call = newCallContext(d.cfg.appId, d.cfg.namespace, req.signal);
    // A caller asking for the delivery receipt gets it right before its request goes to the app.
    if (req.receipt && req.headers.has(RECEIPT_HEADER)) ctx.call.receipt = req.receipt;
    return next(req, ctx);
  },
};

export const ACCESS_CONTROL: EdgeStep<InboundDeps> = {
  name: "access-control",
  why: "after routing (it matches the method path as the app will see it) and before any byte reaches the app",
  describe: "spec.accessControl on the verified caller, verb and method (without mTLS only the global defaultAction counts): 403 access_denied",
  layer: (d) => (next) => (req, ctx) => {
    const acl = d.acl();
    if (acl === null) return next(req, ctx);
    const caller = ctx.caller?.verified ? ctx.caller : null;
    const decision = decide(acl, caller, req.method, ctx.path);
    d.onAccess?.(decision, caller, req.method);
    if (decision.allowed) return next(req, ctx);
    const who = caller ? formatSpiffe(caller) : "an unverified caller";
    return Promise.reject(
      invokeError(
        "access_denied",
        d.cfg.appId,
        `rpc error: code = PermissionDenied desc = access control policy has denied access to id: ${who} operation: ${ctx.path.replace(/^\//, "")} verb: ${req.method} (decided by ${decision.rule})`,
      ),
    );
  },
};

export const CALLER_STAMP: EdgeStep<InboundDeps> = {
  name: "caller-stamp",
  why: "after hygiene: the app learns who called from what peer-identity established, and that the call is for it",
  describe: "dapr-caller-app-id, dapr-caller-namespace, dapr-callee-app-id",
  layer: (d) => (next) => (req, ctx) => {
    const h = ctx.out!;
    if (ctx.caller) {
      h.set("dapr-caller-app-id", ctx.caller.appId);
      if (ctx.caller.namespace) h.set("dapr-caller-namespace", ctx.caller.namespace);
    }
    h.set("dapr-callee-app-id", d.cfg.appId);
    return next(req, ctx);
  },
};

/** The end of the inbound list: the call to the local app. */
export function dispatchToApp(d: InboundDeps): EdgeCall {
  return (req, ctx) => d.toApp({ method: req.method, path: ctx.path, query: ctx.query, headers: ctx.out!, body: ctx.body }, ctx.call!);
}
