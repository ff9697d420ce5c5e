// Errors the sidecar itself makes: one stable reason code each, mapped here (and only here) to an
// HTTP status and Dapr's JSON error body. App responses never pass through this file.

import { textResponse } from "./wire-response.ts";

/** Stable machine-readable reasons, sent in the `meshlet-reason` header and logged. */
export const REASONS = {
  no_app_id: { status: 404, errorCode: "ERR_DIRECT_INVOKE" },
  invalid_app_id: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  invalid_method: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  app_id_not_found: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  resolution_timeout: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  peer_unreachable: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  wrong_target: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  peer_unauthenticated: { status: 403, errorCode: "ERR_PERMISSION_DENIED" },
  peer_untrusted: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  peer_identity_mismatch: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  access_denied: { status: 403, errorCode: "ERR_DIRECT_INVOKE" },
  app_unreachable: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  app_unhealthy: { status: 503, errorCode: "ERR_DIRECT_INVOKE" },
  connect_timeout: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  shutting_down: { status: 503, errorCode: "ERR_DIRECT_INVOKE" },
  /** --max-memory: the sidecar refuses new calls until its memory falls back (proxy/memory-guard.ts). */
  memory_pressure: { status: 503, errorCode: "ERR_MEMORY_PRESSURE" },
  app_not_configured: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  app_timeout: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  upstream_reset: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  deadline_exceeded: { status: 500, errorCode: "ERR_DIRECT_INVOKE" },
  breaker_open: { status: 503, errorCode: "ERR_DIRECT_INVOKE" },
  breaker_half_open_full: { status: 503, errorCode: "ERR_DIRECT_INVOKE" },
  retry_budget_exhausted: { status: 503, errorCode: "ERR_DIRECT_INVOKE" },
  body_too_large: { status: 413, errorCode: "ERR_BODY_TOO_LARGE" },
  client_closed: { status: 499, errorCode: "ERR_CLIENT_CLOSED" },
  route_not_found: { status: 404, errorCode: "ERR_NOT_FOUND" },
  method_not_allowed: { status: 405, errorCode: "ERR_METHOD_NOT_ALLOWED" },
  /** A WebSocket handshake on a dialer that cannot tunnel (the Node adapter's, MESHLET_DIALER=fetch). */
  upgrade_unsupported: { status: 501, errorCode: "ERR_DIRECT_INVOKE" },
  health_not_ready: { status: 500, errorCode: "ERR_HEALTH_NOT_READY" },
  health_appid_mismatch: { status: 500, errorCode: "ERR_HEALTH_APPID_NOT_MATCH" },
  malformed_request: { status: 400, errorCode: "ERR_MALFORMED_REQUEST" },
  headers_too_large: { status: 431, errorCode: "ERR_MALFORMED_REQUEST" },
  /** Like daprd, answered in plain text. */
  invalid_baggage: { status: 400, errorCode: "ERR_MALFORMED_REQUEST", plainText: true },
  /** daprd answers a missing token in plain text, not JSON; the reason header still names it. */
  api_token: { status: 401, errorCode: "ERR_API_TOKEN", plainText: true },
  state_store_not_configured: { status: 500, errorCode: "ERR_STATE_STORE_NOT_CONFIGURED" },
  state_store_not_found: { status: 400, errorCode: "ERR_STATE_STORE_NOT_FOUND" },
  state_illegal_key: { status: 400, errorCode: "ERR_MALFORMED_REQUEST" },
  state_save: { status: 500, errorCode: "ERR_STATE_SAVE" },
  state_save_conflict: { status: 409, errorCode: "ERR_STATE_SAVE" },
  state_get: { status: 500, errorCode: "ERR_STATE_GET" },
  state_delete: { status: 500, errorCode: "ERR_STATE_DELETE" },
  state_delete_conflict: { status: 409, errorCode: "ERR_STATE_DELETE" },
  state_transaction: { status: 500, errorCode: "ERR_STATE_TRANSACTION" },
  secret_stores_not_configured: { status: 500, errorCode: "ERR_SECRET_STORES_NOT_CONFIGURED" },
  secret_store_not_found: { status: 401, errorCode: "ERR_SECRET_STORE_NOT_FOUND" },
  secret_get: { status: 500, errorCode: "ERR_SECRET_GET" },
  internal: { status: 500, errorCode: "ERR_INTERNAL" },
} as const satisfies Record<string, { status: number; errorCode: string; plainText?: true }>;

export type Reason = keyof typeof REASONS;

/** Header carrying the reason code on every sidecar-made error response. */
export const REASON_HEADER = "meshlet-reason";

/**
 * Set by a callee sidecar on an error that provably never reached its app (refused, nothing
 * written, app known down): the caller may send the request to another instance, POST included.
 * A callee removes it from its app's answers, so an app cannot claim it.
 */
export const NOT_DELIVERED_HEADER = "meshlet-not-delivered";

/**
 * A failure made by the sidecar, carried as a rejection of a Call until it reaches the wire.
 * It carries no stack trace: it is an answer, not a bug, and clients can make one per request
 * (capturing stacks for a flood of unknown app-ids cost CPU and held memory).
 */
export class SidecarError extends Error {
  override readonly name = "SidecarError";
  readonly reason: Reason;
  /** True when the request provably never reached a server (safe to send elsewhere). */
  readonly neverSent: boolean;
  /** Dapr's `details` (google.rpc ErrorInfo) where daprd sends them. */
  readonly details: readonly unknown[] | undefined;
  constructor(reason: Reason, message: string, options?: { cause?: unknown; neverSent?: boolean; details?: readonly unknown[] }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, { cause: options?.cause });
    Error.stackTraceLimit = limit;
    this.reason = reason;
    this.neverSent = options?.neverSent ?? false;
    this.details = options?.details;
  }
}

/** Dapr's wording for invocation failures: `failed to invoke, id: X, err: ...`. */
export function invokeError(
  reason: Reason,
  appId: string,
  err: string,
  options?: { cause?: unknown; neverSent?: boolean },
): SidecarError {
  return new SidecarError(reason, `failed to invoke, id: ${appId}, err: ${err}`, options);
}

/** The wire form of a sidecar error: Dapr's JSON shape plus the reason header. */
export function errorResponse(err: SidecarError): Response {
  const spec = REASONS[err.reason];
  const body = err.details ? { errorCode: spec.errorCode, message: err.message, details: err.details } : { errorCode: spec.errorCode, message: err.message };
  return textResponse(JSON.stringify(body), {
    status: spec.status,
    headers: { "content-type": "application/json", [REASON_HEADER]: err.reason },
  });
}

/** The reasons daprd answers in plain text, not JSON (marked `plainText` above). */
export type PlainTextReason = { [R in Reason]: (typeof REASONS)[R] extends { plainText: true } ? R : never }[Reason];

/** The answers daprd gives in plain text, not JSON (a bad API token, invalid baggage), with the reason header. */
export function plainErrorResponse(reason: PlainTextReason, text: string): Response {
  return textResponse(`${text}\n`, {
    status: REASONS[reason].status,
    headers: { "content-type": "text/plain; charset=utf-8", [REASON_HEADER]: reason },
  });
}

/** Anything thrown on the request path becomes a SidecarError; unknown errors are `internal`. */
export function asSidecarError(e: unknown): SidecarError {
  if (e instanceof SidecarError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SidecarError("internal", `internal error: ${message}`, { cause: e });
}
