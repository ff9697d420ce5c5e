// The client span around one attempt (to a peer sidecar, or to the app): which attempt it is,
// the endpoint it went to, why the attempt before it failed, and how it ended. Its context goes
// out in the request's traceparent, so the next hop's span is its child.

import type { Layer } from "../core/call.ts";
import { asSidecarError, REASON_HEADER, type SidecarError } from "../core/errors.ts";
import { responseHeaders } from "../core/wire-response.ts";
import type { TraceSpan, Tracing } from "../observability/tracing.ts";

/** Records how the call under `span` was answered: its status under `statusKey`, the sidecar's reason, a 5xx as failed. Returns the reason. */
export function spanAnswered(span: TraceSpan, res: Response, statusKey: string): string | null {
  span.set(statusKey, res.status);
  const reason = responseHeaders(res).get(REASON_HEADER);
  if (reason) span.set("meshlet.reason", reason);
  if (res.status >= 500) span.fail(`status ${res.status}${reason ? ` (${reason})` : ""}`);
  return reason;
}

/** Records that the call under `span` failed with a sidecar-made error, and returns that error. */
export function spanFailed(span: TraceSpan, e: unknown): SidecarError {
  const err = asSidecarError(e);
  span.set("meshlet.reason", err.reason);
  span.fail(err.message);
  return err;
}

export function attemptSpan(tracing: Tracing, name: string): Layer {
  // then() rather than an async function: one frame less per attempt (see metrics-layers.ts).
  return (next) => (req, ctx) => {
    const parent = ctx.span;
    if (!parent || !parent.sampled) return next(req, ctx);
    const attempt = (ctx.attempt ?? 0) + 1;
    ctx.attempt = attempt;
    const span = tracing.start(name === "app" ? `app ${req.method} ${req.path}` : name, "client", parent);
    req.headers.set("traceparent", span.traceparent);
    span.setAll({ "meshlet.attempt": attempt, "net.peer.name": ctx.appId, "http.request.method": req.method, "url.path": req.path });
    if (ctx.lastOutcome) span.set("meshlet.retry_reason", ctx.lastOutcome);
    if (ctx.breakerState) span.set("meshlet.breaker_state", ctx.breakerState);
    return next(req, ctx).then(
      (res) => {
        if (ctx.endpoint) span.set("net.sock.peer.addr", ctx.endpoint.key);
        const reason = spanAnswered(span, res, "http.response.status_code");
        ctx.lastOutcome = reason ? `status ${res.status} (${reason})` : `status ${res.status}`;
        span.end();
        return res;
      },
      (e: unknown) => {
        if (ctx.endpoint) span.set("net.sock.peer.addr", ctx.endpoint.key);
        ctx.lastOutcome = spanFailed(span, e).reason;
        span.end();
        throw e;
      },
    );
  };
}
