// Node adapter: node:http for listeners, npm undici for dialing. It turns IncomingMessage into
// the sidecar's Incoming and writes Web Responses back, with backpressure and abort both ways.

import http from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import type { Duplex } from "node:stream";
import type { Listen, Runtime } from "./listen.ts";
import { PortInUseError } from "./listen.ts";
import { asSidecarError, errorResponse, SidecarError } from "../core/errors.ts";
import { writeResponse as writeWire } from "../http1/h1-response.ts";
import { type Incoming, SMALL_BODY } from "../core/incoming.ts";
import { HeaderList } from "../core/header-list.ts";
import { WireResponse } from "../core/wire-response.ts";
import type { CallSignal } from "../core/call.ts";
import { ChildSignal, NEVER } from "../core/abort.ts";
import { undiciDialer } from "./dial-undici.ts";

/** The runtime's request as the sidecar's Incoming: one pass over the raw headers. */
async function toIncoming(req: http.IncomingMessage, signal: CallSignal): Promise<Incoming> {
  const headers = new HeaderList();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const cl = req.headers["content-length"];
  const contentLength = cl === undefined ? null : Number(cl);
  const chunked = req.headers["transfer-encoding"] !== undefined;
  let body: Incoming["body"] = null;
  if (!chunked && contentLength !== null && contentLength <= SMALL_BODY) {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    body = Buffer.concat(parts);
  } else if (chunked || contentLength !== null) {
    body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
  }
  return {
    method: req.method ?? "GET",
    target: req.url ?? "/",
    headers,
    body,
    contentLength,
    chunked,
    signal,
    peer: { address: req.socket.remoteAddress ?? "", port: req.socket.remotePort ?? 0 },
  };
}

/** A sidecar error written straight onto a socket the runtime's server gave up on, then closed. */
function refuse(socket: Duplex, err: SidecarError): void {
  if (!socket.writable) return void socket.destroy();
  // The same wire form as every other sidecar error: errorResponse, written by the HTTP/1.1 writer.
  const written = writeWire({ write: (d) => void socket.write(d) }, errorResponse(err), "GET", false, true);
  if (written instanceof Promise) void written.finally(() => socket.end());
  else socket.end();
}

async function writeResponse(res: http.ServerResponse, r: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of r.headers) {
    if (k === "set-cookie") continue;
    headers[k] = v;
  }
  const cookies = r.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(r.status, r.statusText || undefined, headers);
  if (r instanceof WireResponse && r.payload) {
    res.end(r.payload);
    return;
  }
  if (!r.body) {
    res.end();
    return;
  }
  const body = Readable.fromWeb(r.body as unknown as NodeWebStream<Uint8Array>);
  await new Promise<void>((resolve) => {
    body.on("error", () => res.destroy());
    res.on("close", () => {
      body.destroy();
      resolve();
    });
    body.pipe(res);
  });
}

export const listenNode: Listen = async ({ host, port, handler, maxHeaderBytes }) => {
  const server = http.createServer({ maxHeaderSize: maxHeaderBytes }, (req, res) => {
    const signal = new ChildSignal(NEVER);
    const gone = () => signal.abort(new DOMException("client closed", "AbortError"));
    res.on("close", () => {
      if (!res.writableFinished) gone();
    });
    req.on("aborted", gone);
    toIncoming(req, signal)
      .then((r) => handler(r))
      .catch((e) => errorResponse(asSidecarError(e)))
      .then((r) => writeResponse(res, r))
      .catch(() => res.destroy());
  });
  // Requests node:http refuses itself get the sidecar's error shape too.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === "HPE_HEADER_OVERFLOW") refuse(socket, new SidecarError("headers_too_large", "request header fields too large"));
    else if (err.code === "HPE_INVALID_METHOD") refuse(socket, new SidecarError("method_not_allowed", "method is not supported"));
    else refuse(socket, new SidecarError("malformed_request", `malformed request: ${err.code ?? err.message}`));
  });
  server.on("connect", (_req: http.IncomingMessage, socket: Duplex) => {
    refuse(socket, new SidecarError("method_not_allowed", "CONNECT is not supported by the sidecar"));
  });
  // The Bun listener tunnels WebSocket handshakes (h1-server.ts); this adapter cannot, so it says so.
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex) => {
    refuse(socket, new SidecarError("upgrade_unsupported", `Upgrade: ${req.headers.upgrade ?? ""} needs the Bun runtime; the Node adapter cannot tunnel it`));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(e.code === "EADDRINUSE" ? new PortInUseError(host, port) : e));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    host,
    port: typeof addr === "object" && addr ? addr.port : port,
    async close(force) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (force) server.closeAllConnections();
        else server.closeIdleConnections();
      });
    },
  };
};

export const nodeRuntime: Runtime = {
  name: "node",
  listen: listenNode,
  dialer: (opts) => undiciDialer(opts),
  collectGarbage: () => (globalThis as { gc?: () => void }).gc?.(),
};
