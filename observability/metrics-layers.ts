// The request-path recorders of HttpMetrics: the API port's and internal port's listener steps
// (status and reason as the client got them) and the Call layers around an invocation and around
// the request to the app. Label children that do not vary per request are bound once per target.

import type { Layer } from "../core/call.ts";
import type { EdgeLayer } from "../proxy/edge/context.ts";
import { asSidecarError, REASON_HEADER, REASONS } from "../core/errors.ts";
import { responseHeaders, WireResponse } from "../core/wire-response.ts";
import type { HttpMetrics, PathSlot, ServerBundle } from "./http-metrics.ts";
import type { Route } from "../proxy/route.ts";
import type { HeaderBag } from "../core/header-list.ts";

const now = () => performance.now();

/** A declared body size: content-length, or the bytes of a held body; -1 when unknown (a stream). */
function declaredSize(headers: HeaderBag, body: unknown): number {
  if (body instanceof Uint8Array) return body.byteLength;
  const cl = headers.get("content-length");
  return cl === null ? -1 : Number(cl);
}

function responseSize(res: Response): number {
  if (res instanceof WireResponse && res.payload) return res.payload.byteLength;
  const cl = responseHeaders(res).get("content-length");
  return cl === null ? -1 : Number(cl);
}

/** Canonical paths of the API endpoints: never the raw target, which a client controls. */
const API_PATHS: Record<string, string> = {
  healthz: "/v1.0/healthz",
  healthz_outbound: "/v1.0/healthz/outbound",
  metadata: "/v1.0/metadata",
  metadata_put: "/v1.0/metadata/{key}",
  shutdown: "/v1.0/shutdown",
  explain: "/v1.0-meshlet/explain",
};

/** Answers that say the app-id exists nowhere: their paths are a client's invention, not a route. */
const NO_SUCH_TARGET = new Set(["app_id_not_found", "invalid_app_id"]);

/** Dapr's path labels for the state API (daprd's route templates). */
const STATE_PATHS = {
  save: "/v1.0/state/{storeName}",
  get: "/v1.0/state/{storeName}/{key}",
  delete: "/v1.0/state/{storeName}/{key}",
  bulk: "/v1.0/state/{storeName}/bulk",
  transaction: "/v1.0/state/{storeName}/transaction",
} as const;

function serverSlot(m: HttpMetrics, r: Route | null, reason: string | null): PathSlot<ServerBundle> {
  // Calls to app-ids that do not exist share `_`: a flood of made-up ids cannot use up the
  // path values that real routes need.
  if (r?.kind === "invoke") return reason !== null && NO_SUCH_TARGET.has(reason) ? m.apiSlot(null) : m.invokeSlot(r.appId, r.path);
  if (r?.kind === "api") return m.apiSlot(API_PATHS[r.name] ?? `{${r.name}}`);
  if (r?.kind === "state") return m.apiSlot(STATE_PATHS[r.op]);
  if (r?.kind === "secrets") return m.apiSlot(r.bulk ? "/v1.0/secrets/{secretStoreName}/bulk" : "/v1.0/secrets/{secretStoreName}/{key}");
  return m.apiSlot(null);
}

/** A sidecar-made reason on an answer (this sidecar's, or relayed from the callee's), else null. */
function sidecarReason(res: Response): string | null {
  const reason = responseHeaders(res).get(REASON_HEADER);
  return reason !== null && Object.hasOwn(REASONS, reason) ? reason : null;
}

/** API port: dapr_http_server_* and sidecar-made errors, for the answer the client got. */
export function apiMetrics(m: HttpMetrics): EdgeLayer {
  return (next) => (req, ctx) => {
    const t0 = now();
    return next(req, ctx).then((res) => {
      const ms = now() - t0;
      const reason = sidecarReason(res);
      const slot = serverSlot(m, ctx.route, reason);
      const method = m.verb(req.method);
      slot.request(method).value++;
      const b = slot.bundle(method, res.status);
      b.responses.value++;
      b.latency.observe(ms);
      // Declared by the client; the parser has read it already.
      if (req.contentLength !== null) m.serverRequestBytes.observe(req.contentLength);
      const outSize = responseSize(res);
      if (outSize >= 0) m.serverResponseBytes.observe(outSize);
      if (reason !== null) m.sidecarError(reason, "api").value++;
      return res;
    });
  };
}

/** Internal port: the callee's req_recv / res_sent, by the caller its certificate (or stamp) names. */
export function inboundMetrics(m: HttpMetrics): EdgeLayer {
  return (next) => (req, ctx) =>
    next(req, ctx).then((res) => {
      const s = m.inbound(ctx.caller?.appId ?? "", res.status);
      s.recv.value++;
      s.sent.value++;
      const reason = sidecarReason(res);
      if (reason !== null) m.sidecarError(reason, "internal").value++;
      return res;
    });
}

// The Call layers below use then() rather than async functions: under Bun an extra async frame
// per request raised the heap's high-water mark by ~15 MB over 200,000 requests (memory.test.ts).

/** Caller side of one target: req_sent, res_recv and its latency (retries included), reasons. */
export function invocationMetrics(m: HttpMetrics, target: string): Layer {
  const inv = m.invocation(target);
  return (next) => (req, ctx) => {
    inv.sent.value++;
    const t0 = now();
    const done = (status: number) => {
      const s = inv.byStatus(status);
      s.responses.value++;
      s.latency.observe(now() - t0);
    };
    return next(req, ctx).then(
      (res) => {
        const reason = sidecarReason(res);
        if (reason !== null) inv.failed(reason).value++;
        done(res.status);
        return res;
      },
      (e: unknown) => {
        const err = asSidecarError(e);
        inv.failed(err.reason).value++;
        done(REASONS[err.reason].status);
        throw e;
      },
    );
  };
}

/** Sidecar to its app: dapr_http_client_* for each request the app was sent. */
export function appMetrics(m: HttpMetrics): Layer {
  return (next) => (req, ctx) => {
    const t0 = now();
    const sent = declaredSize(req.headers, req.body);
    const done = (status: number, received: number) => {
      const b = m.appSlot(req.path).bundle(m.verb(req.method), status);
      b.completed.value++;
      b.latency.observe(now() - t0);
      if (sent >= 0) b.sent.observe(sent);
      if (received >= 0) b.received.observe(received);
    };
    return next(req, ctx).then(
      (res) => {
        done(res.status, responseSize(res));
        return res;
      },
      (e: unknown) => {
        done(REASONS[asSidecarError(e).reason].status, -1);
        throw e;
      },
    );
  };
}
