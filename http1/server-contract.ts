// What a server connection (h1-server.ts) needs from its socket and its listener, and the time
// and size limits it enforces on a client: the contract, apart from the state machine.

import type { Handler } from "../core/incoming.ts";

/** The socket operations a server connection needs (Bun's Socket has them all). */
export interface ServerWire {
  /** Bytes accepted now, fewer under backpressure, -1 when closed. */
  write(data: Uint8Array): number;
  pause(): void;
  resume(): void;
  /** Half-closes after what was written (FIN). */
  end(): void;
  terminate(): void;
}

export interface ServerOptions {
  readonly handler: Handler;
  /** Largest request head (request line and header fields), and largest framing line, in bytes. */
  readonly maxHeaderBytes: number;
  /** A request body that buffers this much before its reader takes it pauses the socket. */
  readonly bodyHighWater?: number;
  /** The clock for timeouts (ms); injected so tests run on fake time. */
  readonly now?: () => number;
  /** A request in flight (a stream, a tunnel) with no byte either way for this long is dropped (default STREAM_IDLE_MS). */
  readonly streamIdleMs?: number;
}

/** A request head still arriving after this long is dropped (slowloris). */
export const HEAD_TIMEOUT_MS = 15_000;
/** After an early answer (a 413, say), up to this much of the unread request body is read and dropped. */
export const DISCARD_MAX = 16 * 1024 * 1024;
/** A connection with nothing in flight and no bytes either way for this long is closed. */
export const IDLE_TIMEOUT_MS = 255_000;
/**
 * A request in flight (an event stream, a WebSocket tunnel) with no byte either way for this long
 * is dropped: long enough that no heartbeat or ping runs into it (Envoy's 5-minute stream idle
 * default silently kills quiet streams), short enough that a peer gone without a FIN does not
 * hold its sockets forever.
 */
export const STREAM_IDLE_MS = 3_600_000;
