// Writes one Web Response onto an HTTP/1.1 server connection: status line, headers, and the body
// framed by the response's own Content-Length when it has one, else chunked (close-delimited for
// HTTP/1.0). Bodies already in memory go out in one write; streams are pumped with backpressure.

import { WireResponse } from "../core/wire-response.ts";
import { errorResponse, SidecarError } from "../core/errors.ts";

/** Where response bytes go: `write` returns a promise only when the socket pushed back. */
export interface ResponseSink {
  write(data: Uint8Array): void | Promise<void>;
}

const REASON: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
  301: "Moved Permanently", 302: "Found", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  408: "Request Timeout", 409: "Conflict", 412: "Precondition Failed", 413: "Content Too Large", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 499: "Client Closed Request",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

const DIGITS = /^[0-9]{1,15}$/;
/** Bodies up to this size are copied into the same write as the head (one syscall). */
const COALESCE_MAX = 16 * 1024;
const LAST_CHUNK = Buffer.from("0\r\n\r\n", "latin1");

function latin1(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

/**
 * Writes `res` for a request made with `method`. `close` adds `connection: close`; `upgrade`: the
 * request was a WebSocket handshake, which alone may be answered 101. Returns whether the
 * response went out complete and correctly framed, so the connection may carry another request
 * (a promise only when something had to wait).
 */
export function writeResponse(sink: ResponseSink, res: Response, method: string, http10: boolean, close: boolean, upgrade = false): boolean | Promise<boolean> {
  const status = res.status;
  if (status === 101 && !upgrade) {
    res.body?.cancel().catch(() => {});
    return writeResponse(sink, errorResponse(new SidecarError("internal", "101 Switching Protocols for a request that asked for no upgrade")), method, http10, true);
  }
  let head = `HTTP/1.1 ${status} ${res.statusText || REASON[status] || ""}\r\n`;
  let declared: string | null = null;
  const list = res instanceof WireResponse ? res.headerList : null;
  if (list !== null) {
    // Headers kept in JS: written by index, repeated ones (set-cookie) one per line as kept.
    for (let i = 0; i < list.size; i++) {
      const k = list.nameAt(i);
      if (k === "content-length") declared = list.valueAt(i);
      else if (k !== "transfer-encoding" && k !== "connection" && k !== "keep-alive") head += `${k}: ${list.valueAt(i)}\r\n`;
    }
  } else {
    let cookies = false;
    for (const [k, v] of res.headers) {
      switch (k) {
        case "content-length":
          declared = v;
          continue;
        case "transfer-encoding":
        case "connection":
        case "keep-alive":
          continue;
        case "set-cookie":
          cookies = true;
          continue;
      }
      head += `${k}: ${v}\r\n`;
    }
    if (cookies) for (const c of res.headers.getSetCookie()) head += `set-cookie: ${c}\r\n`;
  }
  if (status === 101) {
    // The WebSocket handshake's answer: what follows is the tunnel's bytes, unframed, until the
    // upstream closes; the connection never carries another request.
    head += "connection: upgrade\r\n\r\n";
    if (res.body === null) return done(sink.write(latin1(head)), false);
    return pump(sink, res.body, latin1(head), -1, false).then(() => false);
  }
  if (close) head += "connection: close\r\n";
  else if (http10) head += "connection: keep-alive\r\n";

  const payload = res instanceof WireResponse ? res.payload : null;
  const noContent = status === 204 || status === 304 || status < 200;
  if (noContent || method === "HEAD") {
    if (payload === null) res.body?.cancel().catch(() => {});
    if (!noContent) {
      const n = payload !== null ? String(payload.byteLength) : declared;
      if (n !== null) head += `content-length: ${n}\r\n`;
    }
    return done(sink.write(latin1(head + "\r\n")), true);
  }
  if (payload !== null) return writeBytes(sink, head, payload);
  const body = res.body;
  if (body === null) return done(sink.write(latin1(head + "content-length: 0\r\n\r\n")), true);
  if (declared !== null && DIGITS.test(declared)) {
    return pump(sink, body, latin1(`${head}content-length: ${declared}\r\n\r\n`), Number(declared), false);
  }
  if (http10) return pump(sink, body, latin1(head + "\r\n"), -1, false).then(() => false);
  return pump(sink, body, latin1(head + "transfer-encoding: chunked\r\n\r\n"), -1, true);
}

function done(w: void | Promise<void>, ok: boolean): boolean | Promise<boolean> {
  return w ? w.then(() => ok) : ok;
}

function writeBytes(sink: ResponseSink, head: string, payload: Uint8Array): boolean | Promise<boolean> {
  head += `content-length: ${payload.byteLength}\r\n\r\n`;
  if (payload.byteLength > COALESCE_MAX) {
    const w = sink.write(latin1(head));
    return w ? w.then(() => done(sink.write(payload), true)) : done(sink.write(payload), true);
  }
  const bytes = Buffer.allocUnsafe(head.length + payload.byteLength);
  bytes.write(head, 0, "latin1");
  bytes.set(payload, head.length);
  return done(sink.write(bytes), true);
}

/**
 * Streams `body` after `head`. With a declared `length` it sends exactly that many bytes; a body
 * that ends short or runs long leaves the response cut off (false: the connection must close).
 */
async function pump(sink: ResponseSink, body: ReadableStream<Uint8Array>, head: Uint8Array, length: number, chunked: boolean): Promise<boolean> {
  const reader = body.getReader();
  let sent = 0;
  try {
    await sink.write(head);
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      let chunk = value;
      if (chunk.byteLength === 0) continue;
      if (length >= 0 && sent + chunk.byteLength > length) {
        chunk = chunk.subarray(0, length - sent);
        await sink.write(chunk);
        reader.cancel().catch(() => {});
        return false;
      }
      sent += chunk.byteLength;
      if (!chunked) await sink.write(chunk);
      else if (chunk.byteLength <= COALESCE_MAX) {
        const size = `${chunk.byteLength.toString(16)}\r\n`;
        const framed = Buffer.allocUnsafe(size.length + chunk.byteLength + 2);
        framed.write(size, 0, "latin1");
        framed.set(chunk, size.length);
        framed.write("\r\n", size.length + chunk.byteLength, "latin1");
        await sink.write(framed);
      } else {
        await sink.write(latin1(`${chunk.byteLength.toString(16)}\r\n`));
        await sink.write(chunk);
        await sink.write(latin1("\r\n"));
      }
    }
    if (chunked) await sink.write(LAST_CHUNK);
    return length < 0 || sent === length;
  } catch {
    reader.cancel().catch(() => {});
    return false;
  }
}
