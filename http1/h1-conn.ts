// One HTTP/1.1 client connection driven from the event loop: writes a request (head, then bytes
// or a stream with backpressure), parses the response with http-parser-js and hands it on as a
// Web Response. Runtime-neutral (any Wire); pooling and connecting live in dial-socket.ts.

import { HTTPParser, type OnHeadersCompleteParser } from "http-parser-js";
import type { CallSignal, ProxyRequest } from "../core/call.ts";
import { hopByHopFilter } from "../core/hop-by-hop.ts";
import { HeaderList } from "../core/header-list.ts";
import { ConnectionError, RECEIPT_HEADER } from "../core/connection-error.ts";
import { switchingProtocols, WireResponse } from "../core/wire-response.ts";
import { exchange, leftUnread, missedReceipt, type Exchange } from "./h1-exchange.ts";

export { ConnectionError };

type ParserInfo = Parameters<OnHeadersCompleteParser>[0];

/** The socket operations a connection needs (Bun's Socket has them all). */
export interface Wire {
  /** Bytes accepted now, fewer under backpressure, -1 when closed. */
  write(data: Uint8Array): number;
  pause(): void;
  resume(): void;
  terminate(): void;
  /** Half-closes after what was written (FIN): a tunnel's client finished sending. */
  end?(): void;
}

/** Responses whose whole body arrived with the headers and is at most this big are handed on as bytes. */
const BUFFER_MAX = 64 * 1024;
/** A streamed response body holds this much before the socket is paused. */
const STREAM_HWM = 64 * 1024;
/** Request bodies up to this size go out in the same write as the head (one syscall). */
const COALESCE_MAX = 16 * 1024;
const nullBody = (status: number, method: string) => method === "HEAD" || status === 204 || status === 304;
const latin1 = (s: string) => Buffer.from(s, "latin1");
/** A meshlet peer's delivery receipt, byte for byte (h1-server.ts writes it): skipped without the parser. */
const RECEIPT = latin1("HTTP/1.1 102 Processing\r\n\r\n");
/** A handshake with no stream for its body sends nothing after the 101 (one stream per tunnel: a reader locks it). */
const noBody = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });

export class H1Conn {
  private readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  private ex: Exchange | null = null;
  private drainWaiter: (() => void) | null = null;
  private paused = false;
  /** False once closed, broken, or told `connection: close`. */
  alive = true;
  idleSince = 0;
  /** Told once, when the socket is gone (the pool's count of open connections). */
  onGone: (() => void) | null = null;
  /** The server has sent a delivery receipt (102) on this connection: it sends them when asked. */
  private sendsReceipts = false;

  constructor(
    private readonly wire: Wire,
    /** Called when an exchange ended cleanly and the connection can carry another. */
    private readonly release: (c: H1Conn) => void,
  ) {
    this.parser[HTTPParser.kOnHeadersComplete] = (info: ParserInfo) => this.onHeaders(info);
    this.parser[HTTPParser.kOnBody] = (b: Buffer, start: number, len: number) => this.onBody(b, start, len);
    this.parser[HTTPParser.kOnMessageComplete] = () => this.onComplete();
  }

  /** Sends one request; resolves once the response headers (and, when small, the whole body) arrived. */
  request(req: ProxyRequest, authority: string, signal: CallSignal): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => this.fail(ex, signal.reason ?? new DOMException("aborted", "AbortError"));
      const ex = exchange(req.method, resolve, reject, () => signal.removeEventListener("abort", onAbort));
      this.ex = ex;
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      let sending: void | Promise<void>;
      try {
        sending = this.send(ex, req, authority);
      } catch (e) {
        return this.fail(ex, e);
      }
      if (sending) sending.then(() => this.sentAll(ex), (e: unknown) => this.fail(ex, e));
      else this.sentAll(ex);
    });
  }

  /** Socket events, forwarded by the dialer. */
  onData(chunk: Buffer): void {
    const ex = this.ex;
    if (!ex) {
      // Bytes nobody asked for: the connection is out of step; never reuse it.
      this.destroy();
      return;
    }
    ex.received = true;
    // Tunnel bytes are not HTTP: each goes to the body as the parser would hand it on.
    if (ex.tunnel) return this.onBody(chunk, 0, chunk.byteLength);
    if (ex.asksReceipt && !ex.receipt && chunk.byteLength >= RECEIPT.byteLength && chunk.compare(RECEIPT, 0, RECEIPT.byteLength, 0, RECEIPT.byteLength) === 0) {
      // The receipt arrives on its own, before the answer: no parser run for it (bench:instructions).
      ex.receipt = true;
      this.sendsReceipts = true;
      if (chunk.byteLength === RECEIPT.byteLength) return;
      chunk = chunk.subarray(RECEIPT.byteLength);
    }
    const r = this.parser.execute(chunk);
    if (r instanceof Error) {
      this.fail(ex, new ConnectionError(`invalid HTTP response from upstream: ${r.message}`, "HPE_INVALID", false));
      return;
    }
    if (ex.tunnel) {
      if (ex.upgrade === null) return this.fail(ex, new ConnectionError("upstream answered 101 Switching Protocols to a request that asked for no upgrade", "HPE_INVALID", false));
      // The parser stops after a 101: the rest of the chunk is already the tunnel's.
      if (r < chunk.byteLength) (ex.chunks ??= []).push(chunk.subarray(r));
    }
    if (ex.headers !== null && !ex.handedOn && (ex.complete || !ex.ended)) this.handOn(ex);
    if (this.ex === null && !this.alive) this.destroy();
  }

  onDrain(): void {
    const w = this.drainWaiter;
    this.drainWaiter = null;
    w?.();
  }

  /**
   * The socket is gone. `reset`: it ended with a TCP reset, not a FIN. A peer process that dies
   * with bytes it never read from its socket resets; one whose runtime had read them (Node and Bun
   * read eagerly) sends a FIN, so the error says which, for whoever reads the log.
   */
  onClose(reset = false): void {
    this.alive = false;
    const gone = this.onGone;
    this.onGone = null;
    gone?.();
    this.onDrain();
    const ex = this.ex;
    if (ex?.tunnel) {
      // The upstream closed its half of the tunnel: a FIN ends it cleanly, a reset breaks it.
      ex.complete = true;
      if (reset) ex.stream?.error(new ConnectionError("upstream reset the WebSocket connection (ECONNRESET)", "ECONNRESET", false));
      else ex.stream?.close();
      this.endExchange(ex);
      return;
    }
    if (!ex || ex.complete) return;
    // A body delimited by the end of the connection is complete now.
    if (ex.headers !== null) this.parser.finish();
    if (ex.complete) {
      if (!ex.handedOn) this.handOn(ex);
      return;
    }
    const how = reset ? "reset the connection (ECONNRESET)" : "closed the connection (FIN)";
    this.fail(ex, new ConnectionError(`upstream ${how} before the answer was complete`, "ECONNRESET", !ex.received, false, missedReceipt(ex, this.sendsReceipts) || (reset && leftUnread(ex))));
  }

  destroy(): void {
    this.alive = false;
    this.wire.terminate();
  }

  private sentAll(ex: Exchange): void {
    ex.requestSent = true;
    this.maybeRelease(ex);
  }

  /** Writes the request; synchronous (no promise) when the socket took it all at once. */
  private send(ex: Exchange, req: ProxyRequest, authority: string): void | Promise<void> {
    const body = req.body;
    let head = `${req.method} ${req.path}${req.query} HTTP/1.1\r\nhost: ${authority}\r\n`;
    let declared: string | null = null;
    const h = req.headers;
    for (let i = 0; i < h.size; i++) {
      const k = h.nameAt(i);
      if (k === "content-length") declared = h.valueAt(i);
      else if (k === "upgrade") {
        // A WebSocket handshake (the listener kept the header only for one): its body waits for the 101.
        ex.upgrade = body instanceof ReadableStream ? body : noBody();
        head += `${k}: ${h.valueAt(i)}\r\nconnection: upgrade\r\n`;
      } else if (k === RECEIPT_HEADER) {
        ex.asksReceipt = true;
        head += `${k}: ${h.valueAt(i)}\r\n`;
      } else if (k !== "host" && k !== "transfer-encoding" && k !== "connection" && k !== "expect") head += `${k}: ${h.valueAt(i)}\r\n`;
    }
    if (ex.upgrade !== null) return this.writeAll(ex, latin1(head + "\r\n"));
    if (body instanceof Uint8Array) {
      head += `content-length: ${body.byteLength}\r\n\r\n`;
      if (body.byteLength > COALESCE_MAX) {
        const w = this.writeAll(ex, latin1(head));
        return w ? w.then(() => this.writeAll(ex, body)) : this.writeAll(ex, body);
      }
      const bytes = Buffer.allocUnsafe(head.length + body.byteLength);
      bytes.write(head, 0, "latin1");
      bytes.set(body, head.length);
      return this.writeAll(ex, bytes);
    }
    if (body === null) return this.writeAll(ex, latin1(head + (declared !== null ? `content-length: ${declared}\r\n\r\n` : "\r\n")));
    const chunked = declared === null;
    return this.pump(ex, body, latin1(head + (chunked ? "transfer-encoding: chunked\r\n\r\n" : `content-length: ${declared}\r\n\r\n`)), chunked);
  }

  private async pump(ex: Exchange, body: ReadableStream<Uint8Array>, head: Uint8Array | null, chunked: boolean): Promise<void> {
    if (head) await this.writeAll(ex, head);
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (ex.ended) {
          reader.cancel().catch(() => {});
          return;
        }
        if (done) break;
        if (value.byteLength === 0) continue;
        if (chunked) await this.writeAll(ex, latin1(`${value.byteLength.toString(16)}\r\n`));
        await this.writeAll(ex, value);
        if (chunked) await this.writeAll(ex, latin1("\r\n"));
      }
      if (chunked) await this.writeAll(ex, latin1("0\r\n\r\n"));
    } catch (e) {
      reader.cancel(e).catch(() => {});
      throw e;
    }
  }

  /** After the 101: the client's half of the tunnel goes out as it comes; its end half-closes ours. */
  private pumpTunnel(ex: Exchange): void {
    const out = ex.upgrade!;
    this.pump(ex, out, null, false).then(
      () => {
        if (!ex.ended) this.wire.end?.();
      },
      (e: unknown) => this.fail(ex, e),
    );
  }

  /** Writes all of `data`: returns nothing when the socket took it at once, else waits for drains. */
  private writeAll(ex: Exchange, data: Uint8Array): void | Promise<void> {
    const rest = this.writeSome(ex, data);
    if (rest) return this.writeRest(ex, rest);
  }

  private writeSome(ex: Exchange, buf: Uint8Array): Uint8Array | null {
    if (ex.ended) return null;
    const n = this.alive ? this.wire.write(buf) : -1;
    if (n < 0) throw new ConnectionError("upstream connection closed while sending (EPIPE)", "EPIPE", !ex.received, ex.sent === 0, missedReceipt(ex, this.sendsReceipts));
    ex.sent += n;
    if (n > 0) ex.writes++;
    return n >= buf.byteLength ? null : buf.subarray(n);
  }

  private async writeRest(ex: Exchange, rest: Uint8Array): Promise<void> {
    let buf: Uint8Array | null = rest;
    while (buf) {
      await new Promise<void>((r) => (this.drainWaiter = r));
      buf = this.writeSome(ex, buf);
    }
  }

  private onHeaders(info: ParserInfo): number {
    const ex = this.ex;
    if (!ex) {
      this.alive = false;
      return 1;
    }
    // 1xx interim answers (100 Continue, 103 Early Hints) are skipped; the final one follows.
    const tunnel = info.statusCode === 101;
    if (info.statusCode < 200 && !tunnel) {
      ex.interim = true;
      if (info.statusCode === 102) {
        ex.receipt = true;
        this.sendsReceipts = true;
      }
      return 1;
    }
    const h = new HeaderList();
    const raw = info.headers;
    const drop = hopByHopFilter(raw);
    for (let i = 0; i < raw.length; i += 2) {
      // A 101 keeps its Upgrade for the client: the listener writes it with `connection: upgrade`.
      if (!drop(raw[i]!) || (tunnel && raw[i]!.toLowerCase() === "upgrade")) h.append(raw[i]!, raw[i + 1]!);
    }
    ex.status = info.statusCode;
    ex.statusText = info.statusMessage ?? "";
    ex.headers = h;
    if (tunnel) {
      // The tunnel starts; one to a request that asked for no upgrade is failed by onData.
      ex.keepAlive = false;
      ex.tunnel = true;
      return 1;
    }
    ex.keepAlive = info.shouldKeepAlive;
    return nullBody(ex.status, ex.method) ? 1 : 0;
  }

  private onBody(b: Buffer, start: number, len: number): void {
    const ex = this.ex;
    if (!ex || ex.ended) return;
    // A view, not a copy: Bun hands every data callback a fresh buffer (pinned by a unit test).
    const chunk = start === 0 && len === b.byteLength ? b : b.subarray(start, start + len);
    if (ex.stream) {
      ex.stream.enqueue(chunk);
      if ((ex.stream.desiredSize ?? 1) <= 0 && !this.paused) {
        this.paused = true;
        this.wire.pause();
      }
    } else (ex.chunks ??= []).push(chunk);
  }

  private onComplete(): void {
    const ex = this.ex;
    if (!ex) return;
    if (ex.interim) {
      ex.interim = false;
      return;
    }
    // A 101's head ends a message for the parser; the tunnel goes on until a side closes.
    if (ex.tunnel) return;
    ex.complete = true;
    ex.stream?.close();
    if (ex.requestSent) return this.maybeRelease(ex);
    // Answered before the whole request went out (a 413, say): the answer stands, the rest of
    // the request is not sent and the connection, out of step now, is dropped.
    this.endExchange(ex);
    this.destroy();
  }

  private handOn(ex: Exchange): void {
    ex.handedOn = true;
    const headers = ex.headers!;
    const init = { status: ex.status, statusText: ex.statusText };
    if (nullBody(ex.status, ex.method)) return ex.resolve(new WireResponse(null, init, headers));
    const chunks = ex.chunks ?? [];
    ex.chunks = null;
    let size = 0;
    for (const c of chunks) size += c.byteLength;
    if (ex.complete && size <= BUFFER_MAX) {
      // The whole body is here: hand it on as bytes (sent natively, with a Content-Length).
      const body: Uint8Array<ArrayBuffer> = chunks.length === 1 ? (chunks[0] as Uint8Array<ArrayBuffer>) : Buffer.concat(chunks);
      headers.set("content-length", String(body.byteLength));
      return ex.resolve(new WireResponse(body, init, headers));
    }
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          for (const chunk of chunks) c.enqueue(chunk);
          if (ex.complete) c.close();
          else ex.stream = c;
        },
        pull: () => {
          if (this.paused && this.ex === ex) {
            this.paused = false;
            this.wire.resume();
          }
        },
        cancel: () => {
          // The reader went away mid-body: the rest can't be skipped cheaply, so drop the connection.
          if (ex.complete || ex.ended) return;
          this.endExchange(ex);
          this.destroy();
        },
      },
      { highWaterMark: STREAM_HWM, size: (c) => c?.byteLength ?? 0 },
    );
    if (!ex.tunnel) return ex.resolve(new WireResponse(stream, init, headers));
    ex.resolve(switchingProtocols(stream, headers));
    this.pumpTunnel(ex);
  }

  /** Marks the exchange over: no more socket events reach it and its abort listener is gone. */
  private endExchange(ex: Exchange): void {
    ex.ended = true;
    ex.cleanup();
    if (this.ex === ex) this.ex = null;
  }

  private maybeRelease(ex: Exchange): void {
    if (!ex.complete || !ex.requestSent || ex.ended || this.ex !== ex) return;
    this.endExchange(ex);
    if (this.paused) {
      this.paused = false;
      this.wire.resume();
    }
    if (this.alive && ex.keepAlive) this.release(this);
    else this.destroy();
  }

  /** Ends the exchange with an error: rejects it, or errors its body when already handed on. */
  private fail(ex: Exchange, e: unknown): void {
    if (ex.ended) return;
    this.endExchange(ex);
    this.destroy();
    // The server answered in full before taking the whole body (a 413, say): that answer stands.
    if (ex.complete) return;
    if (!ex.handedOn) ex.reject(e);
    else ex.stream?.error(e);
  }
}
