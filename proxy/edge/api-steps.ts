// The steps of the Dapr HTTP API listener, each one behaviour: answering errors, routing, the API
// token, the sidecar's own endpoints, forwarding headers and the hand-over to the target's Call
// (steps both listeners share are in shared-steps.ts). Their order is written in proxy/stack.ts.

import { asSidecarError, errorResponse, plainErrorResponse, REASON_HEADER } from "../../core/errors.ts";
import { newCallContext } from "../../core/call.ts";
import { responseHeaders } from "../../core/wire-response.ts";
import { sameSecret } from "../../transport/peer-secret.ts";
import { apiEndpoint, type ApiDeps } from "../api.ts";
import { stateEndpoint } from "../../state/api.ts";
import { secretsEndpoint } from "../../secrets/api.ts";
import { stampForwarded } from "../headers.ts";
import { route } from "../route.ts";
import type { EdgeCall, EdgeStep } from "./context.ts";
import { apiMetrics } from "../../observability/metrics-layers.ts";
import { describeMemoryGuard } from "../memory-guard.ts";

/** The traceparent of the call goes on every answer that does not carry one. */
export function stampTrace(res: Response, traceparent: string | null): Response {
  if (traceparent === null) return res;
  const h = responseHeaders(res);
  if (!h.has("traceparent")) h.set("traceparent", traceparent);
  return res;
}

export const API_LOG: EdgeStep<ApiDeps> = {
  name: "api-log",
  why: "outermost: it logs the answer the client got, sidecar errors included, and how long the whole call took",
  describe: "--enable-api-logging / logging.apiLogging: one info line per API call (method, path or route, status, duration, reason, trace id)",
  layer: (d) => {
    const o = d.apiLogging;
    if (!o) return (next) => next;
    return (next) => async (req, ctx) => {
      const t0 = performance.now();
      const res = await next(req, ctx);
      const r = ctx.route;
      if (o.omitHealthChecks && r?.kind === "api" && (r.name === "healthz" || r.name === "healthz_outbound")) return res;
      const path = !o.obfuscateURLs
        ? req.target
        : r?.kind === "invoke"
          ? "/v1.0/invoke/{id}/method/{method}"
          : r?.kind === "api"
            ? `{${r.name}}`
            : "{unknown}";
      const h = responseHeaders(res);
      const tp = ctx.traceparent ?? h.get("traceparent");
      d.log.info("HTTP API Called", {
        method: req.method,
        path,
        code: res.status,
        duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
        reason: h.get(REASON_HEADER) ?? undefined,
        trace_id: tp ? tp.slice(3, 35) : undefined,
        type: "request",
      });
      return res;
    };
  },
};

export const API_METRICS: EdgeStep<ApiDeps> = {
  name: "metrics",
  why: "outside respond: it counts the status and meshlet-reason the client got, sidecar errors included",
  describe: "dapr_http_server_* by method, path (pathMatching) and status; meshlet_sidecar_errors_total by reason",
  layer: (d) => (d.metrics ? apiMetrics(d.metrics) : (next) => next),
};

export const RESPOND: EdgeStep<ApiDeps> = {
  name: "respond",
  why: "outermost: the one place a sidecar error becomes Dapr's JSON answer with its reason (and a log line)",
  describe: "errors -> Dapr JSON with meshlet-reason; the call's traceparent on every answer",
  layer: (d) => (next) => async (req, ctx) => {
    try {
      return stampTrace(await next(req, ctx), ctx.traceparent);
    } catch (e) {
      const err = asSidecarError(e);
      const r = ctx.route;
      if (r?.kind === "invoke" && err.reason !== "client_closed") {
        d.logFailure(`${err.reason}\u0000${r.appId}`, "invoke failed", {
          reason: err.reason,
          target: r.appId,
          method: r.path,
          endpoint: ctx.call?.endpoint?.key,
          error: err.message,
          trace_id: ctx.traceparent?.slice(3, 35),
        });
      }
      return stampTrace(errorResponse(err), ctx.traceparent);
    }
  },
};

export const ROUTE: EdgeStep<ApiDeps> = {
  name: "route",
  why: "before any check: the request-target as sent decides between an API endpoint and an invocation (dot segments never move it)",
  describe: "URL, dapr-app-id header or Basic-auth user -> app-id, namespace, method path",
  layer: (d) => (next) => (req, ctx) => {
    const r = route(req.method, req.target, req.headers, d.cfg.namespace);
    ctx.route = r;
    if (r.kind === "invoke") {
      ctx.path = r.path;
      ctx.query = r.query;
      ctx.call = newCallContext(r.appId, r.namespace, req.signal);
    }
    return next(req, ctx);
  },
};

const HEALTH = new Set(["healthz", "healthz_outbound"]);

export const API_TOKEN: EdgeStep<ApiDeps> = {
  name: "api-token",
  why: "after routing (health endpoints are exempt, as in daprd), before anything is served or forwarded",
  describe: "DAPR_API_TOKEN, when set, required in dapr-api-token (401 plain text, as daprd)",
  layer: (d) => {
    const token = d.cfg.apiToken;
    if (!token) return (next) => next;
    return (next) => (req, ctx) => {
      const r = ctx.route!;
      if ((r.kind !== "api" || !HEALTH.has(r.name)) && !sameSecret(req.headers.get("dapr-api-token"), token)) {
        return Promise.resolve(plainErrorResponse("api_token", "invalid api token"));
      }
      return next(req, ctx);
    };
  },
};

export const MEMORY_GUARD: EdgeStep<ApiDeps> = {
  name: "memory-guard",
  why: "after the token, before any work: invocations and state calls are what hold bodies, and refusing them costs nothing; health, metadata and shutdown stay served",
  describe: `${describeMemoryGuard} (invocations and the state API)`,
  layer: (d) => {
    const g = d.memory;
    if (!g) return (next) => next;
    return (next) => (req, ctx) => {
      if (!g.shedding) return next(req, ctx);
      const r = ctx.route!;
      if (r.kind !== "invoke" && r.kind !== "state") return next(req, ctx);
      return Promise.reject(g.refuse(r.kind === "invoke" ? r.appId : null, false));
    };
  },
};

export const API_ENDPOINTS: EdgeStep<ApiDeps> = {
  name: "api-endpoints",
  why: "the sidecar's own endpoints (health, metadata, shutdown, explain, the state API) and routing errors end here; only invocations go on",
  describe: "healthz, healthz/outbound, metadata, shutdown, explain; /v1.0/state/<store>: save, get, delete, bulk, transaction; /v1.0/secrets/<store>/<key|bulk>",
  layer: (d) => (next) => (req, ctx) => {
    const r = ctx.route!;
    if (r.kind === "api") return apiEndpoint(r, req, d);
    if (r.kind === "state") return stateEndpoint(r, req, d.stateApi);
    if (r.kind === "secrets") return Promise.resolve().then(() => secretsEndpoint(r, d.components.current.secretStores));
    if (r.kind === "error") return Promise.reject(r.error);
    return next(req, ctx);
  },
};

export const FORWARDED: EdgeStep<ApiDeps> = {
  name: "forwarded-headers",
  why: "as daprd, on the caller's side only: X-Forwarded-For / Forwarded carry this sidecar's host",
  describe: "X-Forwarded-For, X-Forwarded-Host, Forwarded appended",
  layer: (d) => (next) => (req, ctx) => {
    stampForwarded(ctx.out!, d.hostIp, d.hostname);
    return next(req, ctx);
  },
};

/** The end of the API list: the target's Call (its own stack: deadline, retry, breaker...). */
export function dispatchToTarget(d: ApiDeps): EdgeCall {
  return (req, ctx) => {
    const call = ctx.call!;
    return d.target(call.appId, call.namespace)({ method: req.method, path: ctx.path, query: ctx.query, headers: ctx.out!, body: ctx.body }, call);
  };
}
