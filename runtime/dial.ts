// The seam between the forwarding core and a runtime's HTTP client: one Dialer sends one
// request to one endpoint over a pooled keep-alive connection. mTLS will plug in here (transport/).

import type { CallContext, Endpoint, ProxyRequest } from "../core/call.ts";
import { forwardResponseHeaders } from "../core/hop-by-hop.ts";
import { SidecarError } from "../core/errors.ts";

/** How a dialer connects: set once when the sidecar builds it. */
export interface DialerOptions {
  /** Longest wait for a new connection (and its TLS handshake) before the attempt fails as connect_timeout. */
  readonly connectTimeoutMs?: number;
}

/** A black-holed address fails over after this long instead of holding the per-try wait. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;

/** What a dialer learns of the call (its target, its abort signal) and tells back (connectMs). */
export type DialContext = Pick<CallContext, "appId" | "namespace" | "signal" | "connectMs">;

export interface Dialer {
  /**
   * Sends `req` to `ep`; rejects with a ConnectionError (event-loop dialer) or the runtime's
   * transport error; never reads bodies whole. `ctx.signal` aborts it.
   */
  dial(ep: Endpoint, req: ProxyRequest, ctx: DialContext): Promise<Response>;
  close(): Promise<void>;
  /** Connections open now and how many of them are idle in the pool (pooled dialers only). */
  connections?(): { open: number; idle: number };
}

/** For dialers that cannot tunnel: a WebSocket handshake (its `upgrade` header kept) is refused, never sent as a plain GET. */
export function refuseUpgrade(req: ProxyRequest, dialer: string): void {
  if (req.headers.has("upgrade")) {
    throw new SidecarError("upgrade_unsupported", `WebSocket connections need the sidecar's own dialer; this one (${dialer}) cannot carry them`);
  }
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Re-wraps an upstream response for the client: hop-by-hop headers dropped, body streamed. */
export function relayResponse(
  status: number,
  statusText: string,
  headers: Headers,
  body: ReadableStream<Uint8Array> | null,
  method: string,
): Response {
  const h = forwardResponseHeaders(headers);
  if (NULL_BODY.has(status) || method === "HEAD") {
    if (body) body.cancel().catch(() => {});
    return new Response(null, { status, statusText, headers: h });
  }
  return new Response(body, { status, statusText, headers: h });
}
