// One request on a server connection (h1-server.ts), from its head to the end of its response:
// its record, the refusal a framing error becomes, and the Incoming it is handed on as.

import type { FramingError, RequestHead } from "./h1-request-parser.ts";
import type { Incoming, Peer } from "../core/incoming.ts";
import { SidecarError } from "../core/errors.ts";
import { ChildSignal, NEVER } from "../core/abort.ts";

export interface Pending {
  readonly head: RequestHead | null;
  /** Set for a request refused before dispatch: answered in turn, then the connection closes. */
  readonly refusal: SidecarError | null;
  readonly signal: ChildSignal;
  chunks: Uint8Array[] | null;
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  stream: ReadableStream<Uint8Array> | null;
  complete: boolean;
  dispatched: boolean;
  continued: boolean;
  /** Answered before its body ended: the rest is read and dropped, then the connection ends. */
  discard: boolean;
  /** Its response started: no interim answer may be written any more. */
  answering: boolean;
}

/** A request whose head arrived (`refusal` null), or one refused before dispatch. */
export function pending(head: RequestHead | null, refusal: SidecarError | null): Pending {
  return {
    head,
    refusal,
    signal: new ChildSignal(NEVER),
    chunks: null,
    controller: null,
    stream: null,
    // A refusal is the whole exchange: nothing after it is read.
    complete: refusal !== null,
    dispatched: false,
    continued: false,
    discard: false,
    answering: false,
  };
}

/** The answer to a request the parser could not frame. */
export function refusalFor(e: FramingError): SidecarError {
  switch (e.kind) {
    case "too_large":
      return new SidecarError("headers_too_large", e.message);
    case "method":
      return new SidecarError("method_not_allowed", e.message);
    default:
      return new SidecarError("malformed_request", e.message);
  }
}

const EMPTY = new Uint8Array(0);

/** The request as the handler gets it: a body read whole as one buffer, or its stream. */
export function incoming(p: Pending, peer: Peer, receipt: () => void): Incoming {
  const h = p.head!;
  const body = p.stream ?? (p.chunks ? (p.chunks.length === 1 ? p.chunks[0]! : Buffer.concat(p.chunks)) : h.contentLength !== null ? EMPTY : null);
  p.chunks = null;
  return {
    method: h.method,
    target: h.target,
    headers: h.headers,
    body,
    contentLength: h.contentLength,
    chunked: h.chunked,
    signal: p.signal,
    peer,
    receipt,
    upgrade: h.upgrade,
  };
}
