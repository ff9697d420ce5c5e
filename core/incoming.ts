// The request as a listener hands it to the sidecar: the request-target exactly as the client sent
// it, headers in one list, the body as bytes or a stream, and the connection's peer. Each runtime
// adapter builds one per request; nothing downstream sees the runtime's own request type.

import type { HeaderList } from "./header-list.ts";
import type { CallSignal } from "./call.ts";

/** A workload identity read from a verified certificate (its SPIFFE id's parts). */
export interface PeerIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly appId: string;
}

/** Who is on the other end of the connection a request arrived on. */
export interface Peer {
  /** Remote IP address as the socket reports it. */
  readonly address: string;
  readonly port: number;
  /** The identity the peer proved with a verified certificate (mTLS), when it proved one. */
  readonly identity?: PeerIdentity;
}

export interface Incoming {
  /** The method token as sent (always upper case: the parser refuses others). */
  readonly method: string;
  /** The request-target exactly as sent: no dot segments resolved, no percent-decoding. */
  readonly target: string;
  /** Request headers in wire order, names lower-cased, repeated names kept. */
  readonly headers: HeaderList;
  /**
   * The body: null when the request has none, bytes when its declared length was small enough
   * to read before dispatch, else a stream that applies backpressure to the connection.
   */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
  /** The declared Content-Length, or null (chunked, or no body). */
  readonly contentLength: number | null;
  readonly chunked: boolean;
  /** Aborted when the client goes away (or the listener is force-closed). */
  readonly signal: CallSignal;
  readonly peer: Peer;
  /** Writes `102 Processing` on this request's connection while it is unanswered (the delivery receipt). */
  readonly receipt?: () => void;
  /**
   * `websocket` for a WebSocket handshake the listener can tunnel: then `body` is the stream of
   * what the client sends after it, and a 101 answer turns the connection into that tunnel.
   */
  readonly upgrade?: string | null;
}

export type Handler = (req: Incoming) => Promise<Response> | Response;

/** Bodies declared up to this size are read whole before the handler runs (one replayable buffer). */
export const SMALL_BODY = 64 * 1024;

/**
 * Reads a whole body into memory, refusing more than `max` bytes (declared or streamed): the
 * one way API endpoints that need a body whole read it.
 */
export async function readBody(req: Incoming, max: number, tooLarge: () => Error): Promise<Uint8Array> {
  const body = req.body;
  if (body === null) return new Uint8Array(0);
  if (req.contentLength !== null && req.contentLength > max) throw tooLarge();
  if (body instanceof Uint8Array) {
    if (body.byteLength > max) throw tooLarge();
    return body;
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size);
}
