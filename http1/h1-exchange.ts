// One request and its response on a client connection (h1-conn.ts): its record, and what the way
// it ended says about delivery: a request the peer's process provably never read, or a receipt
// that a peer known to send them did not send, was not delivered and may go to another instance.

import type { HeaderList } from "../core/header-list.ts";

export interface Exchange {
  readonly method: string;
  readonly resolve: (r: Response) => void;
  readonly reject: (e: unknown) => void;
  /** Removes the abort listener; called once the exchange is over. */
  readonly cleanup: () => void;
  status: number;
  statusText: string;
  headers: HeaderList | null;
  keepAlive: boolean;
  interim: boolean;
  chunks: Uint8Array[] | null;
  stream: ReadableStreamDefaultController<Uint8Array> | null;
  handedOn: boolean;
  complete: boolean;
  requestSent: boolean;
  received: boolean;
  sent: number;
  /** Writes that took bytes: 1 means the request reached the peer's socket in one piece. */
  writes: number;
  ended: boolean;
  /** The request asked for the peer's delivery receipt; `receipt`: the 102 came. */
  asksReceipt: boolean;
  receipt: boolean;
  /** A WebSocket handshake: its body (the client's half of the tunnel) goes out only after a 101. */
  upgrade: ReadableStream<Uint8Array> | null;
  /** The 101 came: every byte from the peer now is the tunnel's, unparsed. */
  tunnel: boolean;
}

export function exchange(method: string, resolve: (r: Response) => void, reject: (e: unknown) => void, cleanup: () => void): Exchange {
  return {
    method,
    resolve,
    reject,
    cleanup,
    status: 0,
    statusText: "",
    headers: null,
    keepAlive: true,
    interim: false,
    chunks: null,
    stream: null,
    handedOn: false,
    complete: false,
    requestSent: false,
    received: false,
    sent: 0,
    writes: 0,
    ended: false,
    asksReceipt: false,
    receipt: false,
    upgrade: null,
    tunnel: false,
  };
}

/** A request in one write up to this size is read whole by any HTTP server's first read (leftUnread). */
const UNREAD_PROOF_MAX = 4096;

/**
 * Whether a reset of the connection proves the peer's process never read this request. Linux
 * answers a close with unread bytes in the socket by a reset, and a close without them by a FIN;
 * a request that went out in one write of at most UNREAD_PROOF_MAX bytes arrives whole, and any
 * HTTP server's first read (4 KiB or more) takes all of it. So a reset with no answer byte means
 * the request was never read: it is sent elsewhere like a refused one. (Not proof: a server that
 * reads the request and then aborts the connection on purpose, SO_LINGER 0, without answering.)
 */
export function leftUnread(ex: Exchange): boolean {
  return !ex.received && ex.requestSent && ex.writes === 1 && ex.sent <= UNREAD_PROOF_MAX;
}

/** Asked for a receipt from a server known to send them (`sendsReceipts`), and none came: its app never got the request. */
export function missedReceipt(ex: Exchange, sendsReceipts: boolean): boolean {
  return ex.asksReceipt && !ex.receipt && sendsReceipts;
}
