// Transport failures as data: what a dialer knows when a request could not be delivered (was it
// refused, did any byte leave, did any come back), so the request path decides by facts, never
// by reading error messages. Dialers on other runtimes' clients translate into it by error code.

/**
 * Asked by a caller on a request that may not be sent twice (POST, PATCH): the callee sidecar
 * answers `102 Processing` right before it hands the request to its app, so a connection that
 * breaks before that receipt proves the app never got it (proxy/forward.ts).
 */
export const RECEIPT_HEADER = "meshlet-receipt";

/** A request that could not be delivered, or whose answer broke off. */
export class ConnectionError extends Error {
  constructor(
    message: string,
    /**
     * EPEERUNTRUSTED: the TLS handshake failed on trust (unknown root, expired, refused by the
     * peer); EPEERIDENTITY: the peer proved an identity other than the target's.
     */
    readonly code: "ECONNREFUSED" | "ECONNRESET" | "EPIPE" | "HPE_INVALID" | "EPEERUNTRUSTED" | "EPEERIDENTITY" | "ETIMEDOUT",
    /** True when not one byte of the response arrived (a reused connection the server had closed). */
    readonly nothingReceived: boolean,
    /** True when not one byte of the request left (the connection was already closed). */
    readonly nothingSent = false,
    /**
     * True when the request asked the peer sidecar for its delivery receipt (RECEIPT_HEADER), the
     * peer is known to send them (it sent one earlier on this connection), and none came before
     * the connection broke: the peer never handed the request to its app. Also true when the
     * peer reset the connection with the whole request unread (h1-conn.ts leftUnread).
     */
    readonly undelivered = false,
  ) {
    super(message);
  }
}

/** A connection `where` refused: provably nothing was sent or received, so safe to send elsewhere. */
export function refusedBy(where: string): ConnectionError {
  return new ConnectionError(`connection refused by ${where}`, "ECONNREFUSED", true, true);
}

/** No connection to `where` within the connect timeout: nothing was sent, safe to send elsewhere. */
export function connectTimedOut(where: string, ms: number): ConnectionError {
  return new ConnectionError(`no connection to ${where} within ${ms} ms (connect timeout)`, "ETIMEDOUT", true, true);
}

/** The `code` of an error or of one of its causes (undici and fetch nest them). */
function codes(e: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur !== null && typeof cur === "object"; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string") out.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

const REFUSED = new Set(["ECONNREFUSED", "ConnectionRefused"]);

/**
 * A runtime client's error as a ConnectionError, by its error codes: a refused connection carried
 * nothing; anything else is a broken exchange. Aborts (the caller's signal) pass through as they are.
 */
export function asConnectionError(e: unknown): unknown {
  if (e instanceof ConnectionError) return e;
  const name = (e as { name?: unknown } | null)?.name;
  if (name === "AbortError" || name === "TimeoutError") return e;
  const message = e instanceof Error ? e.message : String(e);
  if (codes(e).some((c) => REFUSED.has(c))) return new ConnectionError(message, "ECONNREFUSED", true, true);
  if (codes(e).includes("UND_ERR_CONNECT_TIMEOUT")) return new ConnectionError(message, "ETIMEDOUT", true, true);
  return new ConnectionError(message, "ECONNRESET", false, false);
}
