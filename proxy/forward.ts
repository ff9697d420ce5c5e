// The innermost Calls: send the request to the chosen peer sidecar, or to the local app, and turn
// transport failures into reason-coded SidecarErrors. No retries or endpoint choice happen here.

import type { Call, CallContext, Endpoint } from "../core/call.ts";
import type { Dialer } from "../runtime/dial.ts";
import { invokeError, NOT_DELIVERED_HEADER, SidecarError } from "../core/errors.ts";
import { responseHeaders } from "../core/wire-response.ts";
import { ConnectionError, RECEIPT_HEADER } from "../core/connection-error.ts";
import { safeToRepeat } from "../core/idempotent.ts";
import { tooLarge } from "./body-limit.ts";
import { PEER_TOKEN_HEADER } from "../transport/peer-secret.ts";
import { stampTimeLeft } from "../resiliency/deadline.ts";

export interface SelfIdentity {
  readonly appId: string;
  readonly namespace: string;
}

/** Every dialer says what happened as data (ConnectionError); anything else is an abort or unknown. */
function failureKind(e: unknown): "refused" | "timeout" | "untrusted" | "mismatch" | "reset" | "aborted" | "other" {
  if (e instanceof ConnectionError) {
    if (e.code === "ECONNREFUSED") return "refused";
    if (e.code === "ETIMEDOUT") return "timeout";
    if (e.code === "EPEERUNTRUSTED") return "untrusted";
    return e.code === "EPEERIDENTITY" ? "mismatch" : "reset";
  }
  return (e as { name?: unknown } | null)?.name === "AbortError" ? "aborted" : "other";
}

/** Maps a transport error on the way to `target` to a SidecarError with a stable reason. */
export function dialError(e: unknown, ctx: CallContext, target: "peer" | "app", maxBody: number): SidecarError {
  if (e instanceof SidecarError) return e;
  if (ctx.bodyTooLarge) return tooLarge(maxBody);
  const where = ctx.endpoint ? ctx.endpoint.key : "?";
  const kind = failureKind(e);
  // Nothing left this sidecar, or the peer sidecar (which sends a receipt before it hands a request
  // to its app, when asked) sent none: either way no app got the request.
  const neverSent = e instanceof ConnectionError && (e.nothingSent || e.undelivered);
  switch (kind) {
    case "refused":
      return target === "peer"
        ? invokeError("peer_unreachable", ctx.appId, `connection refused by the sidecar at ${where}`, { cause: e, neverSent: true })
        : invokeError("app_unreachable", ctx.appId, `app not reachable at ${where}: connection refused`, { cause: e, neverSent: true });
    case "timeout":
      return invokeError("connect_timeout", ctx.appId, `${target === "peer" ? "the sidecar" : "the app"} at ${where}: ${(e as Error).message}`, { cause: e, neverSent: true });
    case "untrusted":
      return invokeError("peer_untrusted", ctx.appId, (e as Error).message, { cause: e, neverSent: true });
    case "mismatch":
      return invokeError("peer_identity_mismatch", ctx.appId, (e as Error).message, { cause: e, neverSent: true });
    case "aborted":
      if (ctx.signal.aborted) return new SidecarError("client_closed", "client closed the request", { cause: e });
      return invokeError("upstream_reset", ctx.appId, `request to ${where} was aborted`, { cause: e });
    default: {
      const msg = e instanceof Error ? e.message : String(e);
      return target === "peer"
        ? invokeError("upstream_reset", ctx.appId, `connection to the sidecar at ${where} failed: ${msg}`, { cause: e, neverSent })
        : invokeError("app_unreachable", ctx.appId, `app at ${where} failed: ${msg}`, { cause: e, neverSent });
    }
  }
}

/**
 * Sends to `ctx.endpoint` (a peer's internal port), stamping Dapr's caller/callee headers, what
 * is left of the call's deadline (`now`: the clock `ctx.deadlineAt` is on) and, while mTLS is
 * off, the peer secret.
 */
export function toPeer(dialer: Dialer, self: SelfIdentity, maxBody: number, peerSecret?: string, now: () => number = () => performance.now()): Call {
  return async (req, ctx) => {
    const ep = ctx.endpoint;
    if (!ep) throw new SidecarError("internal", "no endpoint chosen for the call");
    const h = req.headers;
    stampTimeLeft(req, ctx, now());
    h.set("dapr-caller-app-id", self.appId);
    h.set("dapr-caller-namespace", self.namespace);
    h.set("dapr-callee-app-id", ctx.appId);
    h.set("dapr-callee-namespace", ctx.namespace);
    if (peerSecret !== undefined) h.set(PEER_TOKEN_HEADER, peerSecret);
    // A request that may not be sent twice asks for the delivery receipt: if the connection then
    // breaks before it, the call can go to another instance (a sidecar killed mid-request).
    if (!safeToRepeat(req.method, h)) h.set(RECEIPT_HEADER, "1");
    try {
      return await dialer.dial(ep, req, ctx);
    } catch (e) {
      throw dialError(e, ctx, "peer", maxBody);
    }
  };
}

/**
 * Sends to the local app on its channel address and port. An app's answer loses any
 * meshlet-not-delivered header (only this sidecar may say a request never reached the app);
 * `onRefused` hears of refused connections (app health counts them as failed probes). A call
 * with a deadline (the app calling itself) tells the app what is left of it; from a peer, the
 * caller's sidecar already did.
 */
export function toApp(dialer: Dialer, app: Endpoint | null, maxBody: number, appApiToken?: string, onRefused?: (err: SidecarError) => void, now: () => number = () => performance.now()): Call {
  return async (req, ctx) => {
    stampTimeLeft(req, ctx, now());
    if (!app) {
      throw invokeError("app_not_configured", ctx.appId, "this sidecar has no app port (--app-port) to deliver to");
    }
    ctx.endpoint = app;
    if (appApiToken) req.headers.set("dapr-api-token", appApiToken);
    // The caller's receipt goes out now, before the first byte to the app, and once.
    if (ctx.receipt) {
      ctx.receipt();
      ctx.receipt = null;
    }
    let res: Response;
    try {
      res = await dialer.dial(app, req, ctx);
    } catch (e) {
      const err = dialError(e, ctx, "app", maxBody);
      if (onRefused && err.reason === "app_unreachable" && err.neverSent) onRefused(err);
      throw err;
    }
    // Callers honour the mark only on a 5xx.
    if (res.status >= 500) {
      const h = responseHeaders(res);
      if (h.get(NOT_DELIVERED_HEADER) !== null) h.delete(NOT_DELIVERED_HEADER);
    }
    return res;
  };
}
