// Node adapter: node:http for listeners, npm undici for dialing. It bridges IncomingMessage /
// ServerResponse to Web Request / Response with backpressure and abort in both directions.

import http from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import type { Listen, Runtime } from "./listen.ts";
import { PortInUseError } from "./listen.ts";
import { asSidecarError, errorResponse } from "./errors.ts";
import { undiciDialer } from "./dial-undici.ts";

function toRequest(req: http.IncomingMessage, signal: AbortSignal, host: string): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const method = req.method ?? "GET";
  const hasBody =
    method !== "GET" && method !== "HEAD" && (req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0);
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal };
  if (hasBody) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(`http://${host}${req.url ?? "/"}`, init);
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

export const listenNode: Listen = async ({ host, port, handler }) => {
  const server = http.createServer((req, res) => {
    const ac = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) ac.abort(new DOMException("client closed", "AbortError"));
    });
    req.on("aborted", () => ac.abort(new DOMException("client closed", "AbortError")));
    let request: Request;
    try {
      request = toRequest(req, ac.signal, req.headers.host ?? `${host}:${port}`);
    } catch (e) {
      void writeResponse(res, errorResponse(asSidecarError(e)));
      return;
    }
    Promise.resolve()
      .then(() => handler(request))
      .catch((e) => errorResponse(asSidecarError(e)))
      .then((r) => writeResponse(res, r))
      .catch(() => res.destroy());
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

export const nodeRuntime: Runtime = { name: "node", listen: listenNode, dialer: () => undiciDialer() };
