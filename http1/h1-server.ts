// One HTTP/1.1 server connection driven from the event loop: requests are parsed strictly
// (h1-request-parser.ts), handed to the handler one at a time in arrival order, and answered in
// that order, so pipelined requests are never lost or reordered (RFC 9112 9.3.2). Runtime-neutral
// (any ServerWire); accepting sockets and timeouts over all connections live in the listener.

import { FramingError, RequestParser, type RequestHead } from "./h1-request-parser.ts";
import { type Peer, SMALL_BODY } from "../core/incoming.ts";
import { DISCARD_MAX, HEAD_TIMEOUT_MS, IDLE_TIMEOUT_MS, type ServerOptions, type ServerWire, STREAM_IDLE_MS } from "./server-contract.ts";
import { asSidecarError, errorResponse, SidecarError } from "../core/errors.ts";
import { incoming, pending, refusalFor, type Pending } from "./h1-pending.ts";
import { writeResponse, type ResponseSink } from "./h1-response.ts";
import { WireResponse } from "../core/wire-response.ts";

const monotonic = () => performance.now();

const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
const PROCESSING = Buffer.from("HTTP/1.1 102 Processing\r\n\r\n", "latin1");

export class ServerConn implements ResponseSink {
  private readonly parser: RequestParser;
  private readonly queue: Pending[] = [];
  /** The request whose body the parser is reading. */
  private parsing: Pending | null = null;
  private drainWaiter: (() => void) | null = null;
  private queuePaused = false;
  private bodyPaused = false;
  private wirePaused = false;
  /** No more requests are read: after a framing error, CONNECT, or the peer's FIN. */
  private noMoreRequests = false;
  /** The listener is closing: finish what is in flight, then close. */
  private draining = false;
  closed = false;
  lastActive: number;
  /** When the head being read started arriving (-1 when none is). */
  private headSince = -1;
  /** A request answered early whose body is still being read and dropped. */
  private discarding: Pending | null = null;
  private discarded = 0;
  /** A 101 went out: the connection is a WebSocket tunnel until either side closes. */
  private tunnel = false;
  /** Called once when the connection is gone. */
  onGone: () => void = () => {};

  private readonly now: () => number;

  constructor(
    private readonly wire: ServerWire,
    private readonly peer: Peer,
    private readonly opts: ServerOptions,
  ) {
    this.now = opts.now ?? monotonic;
    this.lastActive = this.now();
    this.parser = new RequestParser(opts.maxHeaderBytes, {
      onHead: (h) => this.onHead(h),
      onBody: (b) => this.onBody(b),
      onComplete: () => this.onComplete(),
    });
  }

  // --- socket events, forwarded by the listener ---

  onData(chunk: Buffer): void {
    if (this.closed) return;
    const now = (this.lastActive = this.now());
    if (this.noMoreRequests && this.discarding === null) return;
    const err = this.parser.execute(chunk);
    if (err) return this.refuse(err);
    if (!this.parser.inMessage && !this.parser.idle()) {
      if (this.headSince < 0) this.headSince = now;
    } else this.headSince = -1;
    if (this.parser.stopped) this.stopReading();
    if (this.queue.length > 1 && !this.queuePaused) {
      this.queuePaused = true;
      this.syncPause();
    }
  }

  onDrain(): void {
    this.lastActive = this.now();
    const w = this.drainWaiter;
    this.drainWaiter = null;
    w?.();
  }

  /** The client sent FIN: what it sent in full is answered, then the connection closes. */
  onEnd(): void {
    const p = this.parsing;
    if (p && this.parser.inMessage && p.head?.upgrade) {
      // The tunnel's client half-closed: its stream ends cleanly, the upstream's half goes on.
      this.parsing = null;
      try {
        p.controller?.close();
      } catch {
        // already errored or cancelled
      }
      p.controller = null;
    } else if (p && this.parser.inMessage) {
      // A request cut off by the FIN can never complete: a streaming body fails (its handler
      // answers), one not yet handed on is dropped (there is nobody to hear about it).
      this.parsing = null;
      if (p.controller) p.controller.error(new SidecarError("malformed_request", "client closed before the request body ended"));
      else if (!p.dispatched) {
        const i = this.queue.indexOf(p);
        if (i >= 0) this.queue.splice(i, 1);
      }
    }
    this.noMoreRequests = true;
    this.headSince = -1;
    if (this.queue.length === 0) this.end();
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.onDrain();
    const gone = new DOMException("client closed the connection", "AbortError");
    for (const p of this.queue) {
      p.signal.abort(gone);
      if (!p.complete) p.controller?.error(gone);
    }
    this.queue.length = 0;
    this.onGone();
  }

  /** Timeouts, checked by the listener's sweep: true when the connection was dropped. */
  sweep(now: number): boolean {
    if (this.closed) return true;
    const first = this.queue[0];
    if (this.tunnel || (first !== undefined && first.dispatched)) {
      if (now - this.lastActive <= (this.opts.streamIdleMs ?? STREAM_IDLE_MS)) return false;
      this.wire.terminate();
      return true;
    }
    if (this.headSince >= 0 && now - this.headSince > HEAD_TIMEOUT_MS && this.queue.length === 0) {
      this.wire.terminate();
      return true;
    }
    // A small body is read whole before dispatch: one that stops arriving is a stalled client.
    if (((first && !first.dispatched) || this.discarding) && now - this.lastActive > HEAD_TIMEOUT_MS) {
      this.wire.terminate();
      return true;
    }
    if (this.queue.length === 0 && now - this.lastActive > IDLE_TIMEOUT_MS) {
      this.end();
      return true;
    }
    return false;
  }

  /** A 101 went out and the connection is still open. */
  get tunnelling(): boolean {
    return this.tunnel && !this.closed;
  }

  /** Graceful close: an idle connection ends now, a busy one after its last response. */
  drain(): void {
    this.draining = true;
    if (this.queue.length === 0) this.end();
  }

  terminate(): void {
    this.wire.terminate();
  }

  // --- ResponseSink: what the response writer needs ---

  write(data: Uint8Array): void | Promise<void> {
    const rest = this.writeSome(data);
    if (rest) return this.writeRest(rest);
  }

  private writeSome(buf: Uint8Array): Uint8Array | null {
    const n = this.closed ? -1 : this.wire.write(buf);
    if (n < 0) throw new Error("client connection closed");
    if (n > 0) this.lastActive = this.now();
    return n >= buf.byteLength ? null : buf.subarray(n);
  }

  private async writeRest(rest: Uint8Array): Promise<void> {
    let buf: Uint8Array | null = rest;
    while (buf) {
      await new Promise<void>((r) => (this.drainWaiter = r));
      buf = this.writeSome(buf);
    }
  }

  // --- parser events ---

  private onHead(head: RequestHead): void {
    if (this.noMoreRequests) return;
    // CONNECT: nothing after the head is read; the refusal is the whole exchange.
    const refusal = head.method === "CONNECT" ? new SidecarError("method_not_allowed", "CONNECT is not supported by the sidecar") : null;
    const p = pending(head, refusal);
    if (refusal === null && (head.chunked || head.upgrade !== null || (head.contentLength ?? 0) > SMALL_BODY)) p.stream = this.bodyStream(p);
    this.parsing = refusal === null ? p : null;
    this.queue.push(p);
    if (this.queue[0] === p) this.advance(p);
  }

  private onBody(chunk: Uint8Array): void {
    const p = this.parsing;
    if (!p) return;
    this.lastActive = this.now();
    if (p.discard) {
      this.discarded += chunk.byteLength;
      if (this.discarded > DISCARD_MAX) this.end();
      return;
    }
    if (p.controller) {
      p.controller.enqueue(chunk);
      if ((p.controller.desiredSize ?? 1) <= 0 && !this.bodyPaused) {
        this.bodyPaused = true;
        this.syncPause();
      }
    } else if (p.stream === null) (p.chunks ??= []).push(chunk);
  }

  private onComplete(): void {
    const p = this.parsing;
    if (!p) return;
    this.parsing = null;
    p.complete = true;
    p.controller?.close();
    p.controller = null;
    // The body is all here: its backpressure no longer holds the socket (the queue's may).
    if (this.bodyPaused) {
      this.bodyPaused = false;
      this.syncPause();
    }
    if (p.discard) return this.end();
    if (this.queue[0] === p) this.advance(p);
  }

  private bodyStream(p: Pending): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          p.controller = c;
        },
        pull: () => {
          if (this.bodyPaused) {
            this.bodyPaused = false;
            this.syncPause();
          }
        },
        cancel: () => {
          // The handler no longer wants the body: the rest is not read, and the connection
          // closes after this response (the next request's start is unknown).
          p.controller = null;
          if (!p.complete) this.stopReading();
        },
      },
      { highWaterMark: this.opts.bodyHighWater ?? 64 * 1024, size: (c) => c?.byteLength ?? 0 },
    );
  }

  // --- dispatch and answer, one request at a time ---

  /** Starts the request at the head of the queue once its body is ready to hand on. */
  private advance(p: Pending): void {
    if (p.dispatched) return;
    if (p.refusal === null && !p.complete && p.stream === null) {
      // A small body is read whole first; a client that waits for 100 Continue gets it now.
      this.sendContinue(p);
      return;
    }
    p.dispatched = true;
    if (p.refusal) return this.respond(p, errorResponse(p.refusal));
    this.sendContinue(p);
    const req = incoming(p, this.peer, this.receipt);
    let res: Response | Promise<Response>;
    try {
      res = this.opts.handler(req);
    } catch (e) {
      res = errorResponse(asSidecarError(e));
    }
    if (res instanceof Response) this.respond(p, res);
    else res.then((r) => this.respond(p, r), (e: unknown) => this.respond(p, errorResponse(asSidecarError(e))));
  }

  /**
   * The delivery receipt (102 Processing) for the request being answered: only the queue's head is
   * ever dispatched, so it is the one the handler calling this runs for.
   */
  private readonly receipt = (): void => {
    const p = this.queue[0];
    if (!p || !p.dispatched || p.answering || this.closed) return;
    try {
      void this.write(PROCESSING);
    } catch {
      // closed: onClose cleans up
    }
  };

  private sendContinue(p: Pending): void {
    if (p.continued || p.complete || !p.head?.expectContinue || this.closed) return;
    p.continued = true;
    try {
      void this.write(CONTINUE);
    } catch {
      // closed: onClose cleans up
    }
  }

  private respond(p: Pending, res: Response): void {
    p.answering = true;
    if (this.closed) {
      if (!(res instanceof WireResponse && res.payload)) res.body?.cancel().catch(() => {});
      return this.finish(p, false);
    }
    const h = p.head;
    // Read only for a handshake: the status is a native getter, and this is every response's path.
    const upgrade = h !== null && h.upgrade !== null;
    if (upgrade && res.status === 101) this.tunnel = true;
    // This answer is the connection's last when the client asked so, the request was refused or
    // is not read to its end yet, the listener is closing, or nothing more will arrive.
    const last =
      h === null || !h.keepAlive || p.refusal !== null || !p.complete || this.draining || (this.noMoreRequests && this.queue.length <= 1);
    let r: boolean | Promise<boolean>;
    try {
      r = writeResponse(this, res, h?.method ?? "GET", h?.http10 ?? false, last, upgrade);
    } catch {
      r = false;
    }
    if (r === true || r === false) this.finish(p, r && !last);
    else r.then((ok) => this.finish(p, ok && !last), () => this.finish(p, false));
  }

  private finish(p: Pending, keepOpen: boolean): void {
    if (this.queue[0] === p) this.queue.shift();
    if (this.closed) return;
    if (!keepOpen) {
      this.stopReading();
      // Answered before the client finished sending: read the rest and drop it, so the client
      // sees the answer instead of a reset from closing on unread bytes.
      if (!p.complete && p.head !== null && p.head.upgrade === null && this.parsing === p && !this.parser.stopped) return this.discardRest(p);
      return this.end();
    }
    if (this.queue.length <= 1 && this.queuePaused) {
      this.queuePaused = false;
      this.syncPause();
    }
    const next = this.queue[0];
    if (next) return this.advance(next);
    if (this.draining || this.noMoreRequests) this.end();
  }

  private discardRest(p: Pending): void {
    p.discard = true;
    p.chunks = null;
    p.controller = null;
    this.discarding = p;
    this.queuePaused = this.bodyPaused = false;
    this.syncPause();
  }

  private refuse(err: FramingError): void {
    this.stopReading();
    // A body cut by a framing error never completes: its request fails with this error.
    const open = this.parsing;
    this.parsing = null;
    if (open && open.controller) open.controller.error(new SidecarError("malformed_request", err.message));
    const p = pending(null, refusalFor(err));
    this.queue.push(p);
    if (this.queue[0] === p) this.advance(p);
  }

  private stopReading(): void {
    this.noMoreRequests = true;
    this.headSince = -1;
    if (!this.queuePaused) {
      this.queuePaused = true;
      this.syncPause();
    }
  }

  private syncPause(): void {
    const want = this.queuePaused || this.bodyPaused;
    if (want === this.wirePaused || this.closed) return;
    this.wirePaused = want;
    if (want) this.wire.pause();
    else this.wire.resume();
  }

  /**
   * Half-closes: nothing read after this is handled. A request that arrives after our FIN (a
   * caller writing on a keep-alive connection as a draining sidecar closes it) could never be
   * answered, so it must not reach the app either: the caller sees a connection closed with
   * nothing sent back, not an answer lost after delivery.
   */
  private end(): void {
    if (this.closed) return;
    this.noMoreRequests = true;
    this.wire.end();
  }
}
