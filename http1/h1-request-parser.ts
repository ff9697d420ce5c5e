// The request side of HTTP/1.1 framing for the listeners (RFC 9112): request line and header
// fields, then a body delimited by Content-Length or chunked coding, with trailers. Strict: a
// request is framed exactly one way or refused. Written here, not taken from http-parser-js: that
// library cost 4.7 us per request head against 1.6 us for this one (docs/decisions.md), and it is
// lenient where smuggling lives (0x and negative chunk sizes, folded lines, signed lengths).
// It knows nothing of routing; the connection (h1-server.ts) decides what to do with requests.

import { HeaderList } from "../core/header-list.ts";

/** Why a request was refused, and so what the listener answers with. */
export class FramingError extends Error {
  constructor(
    message: string,
    readonly kind: "malformed" | "too_large" | "method",
  ) {
    super(message);
  }
}

/** One parsed, validated request head. */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderList;
  readonly contentLength: number | null;
  readonly chunked: boolean;
  readonly keepAlive: boolean;
  readonly http10: boolean;
  readonly expectContinue: boolean;
  /**
   * `websocket` for a WebSocket opening handshake (GET, HTTP/1.1, `Connection: upgrade`,
   * `Upgrade: websocket`, no body), else null. After such a head every byte on the connection is
   * the tunnel's: handed on through `onBody`, never parsed, and the message never completes.
   */
  readonly upgrade: string | null;
}

export interface RequestParserEvents {
  onHead(head: RequestHead): void;
  /** A piece of the body: a view into the chunk the socket delivered (not copied). */
  onBody(chunk: Uint8Array): void;
  onComplete(): void;
}

/** Methods forwarded (the registered ones an app framework commonly knows); others get 405. */
const METHODS = new Set([
  "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY",
  "COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND",
  "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
  "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE",
]);
/** method SP request-target SP HTTP-version, the target in visible ASCII only. */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\u0021-\u007e]+) HTTP\/(\d)\.(\d)$/;
/** Field values: visible characters, spaces, tabs and obs-text; no other control characters. */
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** The same over a whole head: CR and LF only as CRLF line ends. */
const BAD_HEAD = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\r(?!\n)|(?<!\r)\n/;
/** Per ASCII code: 1 for a token character, 2 for an upper-case letter (also a token character). */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+.^_`|~-0123456789abcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 2;
const DIGITS = /^[0-9]{1,15}$/;
const CHUNK_SIZE = /^([0-9a-fA-F]{1,13})[ \t]*(?:;[^\u0000-\u0008\u000a-\u001f\u007f]*)?$/;
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");

const enum State {
  Head,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  /** After a WebSocket handshake: the rest of the connection is the tunnel's bytes. */
  Tunnel,
  Stopped,
}

function malformed(message: string): FramingError {
  return new FramingError(message, "malformed");
}

function tooLarge(): FramingError {
  return new FramingError("request header fields too large", "too_large");
}

/**
 * The lower-case form of a field name, or null when it is not a token. One pass over the
 * characters: names already in lower case (most clients, every sidecar) are not copied.
 */
function fieldName(name: string): string | null {
  let upper = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const t = c < 128 ? TCHAR[c]! : 0;
    if (t === 0) return null;
    if (t === 2) upper = true;
  }
  return name.length === 0 ? null : upper ? name.toLowerCase() : name;
}

/** Parses a stream of requests on one connection; `execute` returns the error that ended it. */
export class RequestParser {
  private state = State.Head;
  /** Bytes of a head, chunk-size line or trailer section that has not ended yet. */
  private held: Buffer | null = null;
  private heldLen = 0;
  /** Bytes of body (or of the current chunk) still to come. */
  private remaining = 0;
  private trailerBytes = 0;
  /** True after CONNECT or an error: nothing more is parsed. */
  stopped = false;

  constructor(
    private readonly maxHeaderBytes: number,
    private readonly events: RequestParserEvents,
  ) {}

  /** True once a head is parsed and its message has not ended. */
  get inMessage(): boolean {
    return this.state !== State.Head && this.state !== State.Stopped;
  }

  /** True when no bytes of a next request head are held. */
  idle(): boolean {
    return this.state === State.Head && this.heldLen === 0;
  }

  /** Feeds bytes; returns the error that ended parsing, if any. */
  execute(chunk: Buffer): FramingError | null {
    try {
      let off = 0;
      const len = chunk.byteLength;
      while (off < len) {
        switch (this.state) {
          case State.Head:
            off = this.head(chunk, off);
            break;
          case State.Fixed: {
            const n = Math.min(this.remaining, len - off);
            this.events.onBody(off === 0 && n === len ? chunk : chunk.subarray(off, off + n));
            off += n;
            this.remaining -= n;
            if (this.remaining === 0) this.complete();
            break;
          }
          case State.ChunkSize:
          case State.ChunkEnd:
          case State.Trailers:
            off = this.line(chunk, off);
            break;
          case State.ChunkData: {
            const n = Math.min(this.remaining, len - off);
            this.events.onBody(chunk.subarray(off, off + n));
            off += n;
            this.remaining -= n;
            if (this.remaining === 0) this.state = State.ChunkEnd;
            break;
          }
          case State.Tunnel:
            this.events.onBody(off === 0 ? chunk : chunk.subarray(off));
            return null;
          case State.Stopped:
            return null;
        }
      }
      return null;
    } catch (e) {
      this.state = State.Stopped;
      this.stopped = true;
      if (e instanceof FramingError) return e;
      throw e;
    }
  }

  /** Holds `chunk[from, to)` after what is held already, within the head limit. */
  private hold(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (this.heldLen + n > this.maxHeaderBytes + 4) throw tooLarge();
    if (this.held === null) this.held = Buffer.allocUnsafe(Math.min(this.maxHeaderBytes + 4, Math.max(1024, n * 2)));
    if (this.heldLen + n > this.held.byteLength) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxHeaderBytes + 4, Math.max(this.held.byteLength * 2, this.heldLen + n)));
      this.held.copy(bigger, 0, 0, this.heldLen);
      this.held = bigger;
    }
    chunk.copy(this.held, this.heldLen, from, to);
    this.heldLen += n;
  }

  private release(): void {
    this.heldLen = 0;
    if (this.held !== null && this.held.byteLength > 4096) this.held = null;
  }

  /** Head state: returns the offset after the head, or the chunk's end when it is not complete. */
  private head(chunk: Buffer, off: number): number {
    if (this.heldLen === 0) {
      // Empty lines before a request line are ignored (RFC 9112 2.2).
      while (off + 1 < chunk.byteLength && chunk[off] === 13 && chunk[off + 1] === 10) off += 2;
      if (off >= chunk.byteLength) return off;
      const end = chunk.indexOf(CRLFCRLF, off);
      if (end >= 0) {
        if (end - off > this.maxHeaderBytes) throw tooLarge();
        this.parseHead(chunk.toString("latin1", off, end));
        return end + 4;
      }
      this.hold(chunk, off, chunk.byteLength);
      this.checkHeld(0);
      return chunk.byteLength;
    }
    // A head split across reads: look for its end across the seam.
    const before = this.heldLen;
    this.hold(chunk, off, Math.min(chunk.byteLength, off + this.maxHeaderBytes + 4 - before));
    // Only the bytes held: the buffer's tail is uninitialised memory (allocUnsafe), where a CRLF
    // after a held CRLF would read as the end of the head (a loop run of the tests caught it).
    const end = this.held!.subarray(0, this.heldLen).indexOf(CRLFCRLF, Math.max(0, before - 3));
    if (end < 0) {
      if (this.heldLen > this.maxHeaderBytes) throw tooLarge();
      this.checkHeld(before);
      return chunk.byteLength;
    }
    if (end > this.maxHeaderBytes) throw tooLarge();
    const text = this.held!.toString("latin1", 0, end);
    this.release();
    this.parseHead(text);
    return off + (end + 4 - before);
  }

  /** A head that uses bare LF line ends would never end in CRLF CRLF: refuse it at once. */
  private checkHeld(from: number): void {
    const h = this.held!;
    for (let i = from; i < this.heldLen; i++) if (h[i] === 10 && (i === 0 || h[i - 1] !== 13)) throw malformed("bare LF in request head");
  }

  private parseHead(text: string): void {
    if (BAD_HEAD.test(text)) throw malformed("control characters or bare CR/LF in request head");
    let eol = text.indexOf("\r\n");
    const first = eol < 0 ? text : text.slice(0, eol);
    const m = REQUEST_LINE.exec(first);
    if (m === null) {
      const method = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) /.exec(first);
      if (method && !METHODS.has(method[1]!) && /^[^ ]+ [^ ]+ HTTP\/\d\.\d$/.test(first)) {
        throw new FramingError(`method ${method[1]} is not supported`, "method");
      }
      throw malformed("malformed request line");
    }
    const method = m[1]!;
    if (!METHODS.has(method)) throw new FramingError(`method ${method} is not supported`, "method");
    if (m[3] !== "1" || (m[4] !== "0" && m[4] !== "1")) throw malformed("unsupported HTTP version");
    const http10 = m[4] === "0";
    const headers = new HeaderList();
    let contentLength: number | null = null;
    let te: string | null = null;
    let connection = "";
    let expectContinue = false;
    let upgrade: string | null = null;
    let pos = eol < 0 ? text.length : eol + 2;
    while (pos < text.length) {
      eol = text.indexOf("\r\n", pos);
      if (eol < 0) eol = text.length;
      const c0 = text.charCodeAt(pos);
      if (c0 === 32 || c0 === 9) throw malformed("obsolete line folding in header field");
      const colon = text.indexOf(":", pos);
      if (colon <= pos || colon > eol) throw malformed("header line without a field name");
      const k = fieldName(text.slice(pos, colon));
      if (k === null) throw malformed("invalid header field name");
      // The value without the optional whitespace around it.
      let a = colon + 1;
      let b = eol;
      while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
      while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
      const value = text.slice(a, b);
      pos = eol + 2;
      headers.appendLower(k, value);
      if (k.length < 6 || k.length > 17) continue;
      if (k === "content-length") {
        if (!DIGITS.test(value)) throw malformed("invalid Content-Length");
        const n = Number(value);
        if (contentLength !== null && contentLength !== n) throw malformed("conflicting Content-Length headers");
        contentLength = n;
      } else if (k === "transfer-encoding") {
        if (te !== null) throw malformed("more than one Transfer-Encoding header");
        te = value.toLowerCase();
      } else if (k === "connection") connection += `${value.toLowerCase()},`;
      else if (k === "expect" && value.toLowerCase() === "100-continue") expectContinue = true;
      else if (k === "upgrade") upgrade = value;
    }
    if (te !== null) {
      if (te !== "chunked") throw malformed(`unsupported Transfer-Encoding: ${te}`);
      if (contentLength !== null) throw malformed("both Content-Length and Transfer-Encoding");
      if (http10) throw malformed("Transfer-Encoding on an HTTP/1.0 request");
    }
    // Only WebSocket is tunnelled: another protocol (h2c, say) would carry many requests past the
    // per-request steps. Its Upgrade header is then dropped as hop-by-hop, as before.
    if (upgrade !== null && !(method === "GET" && !http10 && te === null && !contentLength && isWebSocket(upgrade) && hasToken(connection, "upgrade"))) upgrade = null;
    else if (upgrade !== null) upgrade = "websocket";
    const keepAlive = method !== "CONNECT" && upgrade === null && (http10 ? hasToken(connection, "keep-alive") : !hasToken(connection, "close"));
    this.events.onHead({ method, target: m[2]!, headers, contentLength, chunked: te !== null, keepAlive, http10, expectContinue, upgrade });
    if (upgrade !== null) {
      this.state = State.Tunnel;
      return;
    }
    if (method === "CONNECT") {
      // What follows CONNECT is not HTTP: the connection is answered and closed.
      this.state = State.Stopped;
      this.stopped = true;
      return;
    }
    if (te !== null) {
      this.state = State.ChunkSize;
    } else if (contentLength !== null && contentLength > 0) {
      this.state = State.Fixed;
      this.remaining = contentLength;
    } else this.complete();
  }

  /** Chunk-size lines, the CRLF after chunk data, and trailer lines: one line at a time. */
  private line(chunk: Buffer, off: number): number {
    const nl = chunk.indexOf(10, off);
    if (nl < 0) {
      this.hold(chunk, off, chunk.byteLength);
      return chunk.byteLength;
    }
    let text: string;
    if (this.heldLen > 0) {
      this.hold(chunk, off, nl + 1);
      text = this.held!.toString("latin1", 0, this.heldLen);
      this.release();
    } else text = chunk.toString("latin1", off, nl + 1);
    if (text.length < 2 || text.charCodeAt(text.length - 2) !== 13) throw malformed("bare LF in chunked framing");
    this.onLine(text.slice(0, -2));
    return nl + 1;
  }

  private onLine(line: string): void {
    switch (this.state) {
      case State.ChunkSize: {
        const m = CHUNK_SIZE.exec(line);
        if (m === null) throw malformed("invalid chunk size line");
        this.remaining = parseInt(m[1]!, 16);
        if (this.remaining === 0) {
          this.state = State.Trailers;
          this.trailerBytes = 0;
        } else this.state = State.ChunkData;
        return;
      }
      case State.ChunkEnd:
        if (line !== "") throw malformed("chunk data longer than its size");
        this.state = State.ChunkSize;
        return;
      case State.Trailers: {
        if (line === "") return this.complete();
        this.trailerBytes += line.length + 2;
        if (this.trailerBytes > this.maxHeaderBytes) throw tooLarge();
        // Trailer fields are checked like header fields and not forwarded.
        const colon = line.indexOf(":");
        if (colon <= 0 || fieldName(line.slice(0, colon)) === null || BAD_VALUE.test(line.slice(colon + 1))) throw malformed("invalid trailer field");
        return;
      }
    }
  }

  private complete(): void {
    this.state = State.Head;
    this.events.onComplete();
  }
}

function hasToken(list: string, token: string): boolean {
  if (list === "") return false;
  for (const part of list.split(",")) if (part.trim() === token) return true;
  return false;
}

/** `Upgrade: websocket` (any case); a list of protocols is not tunnelled. */
function isWebSocket(value: string): boolean {
  return value.length === 9 && value.toLowerCase() === "websocket";
}
