// Dialer on npm undici for the Node data plane: one keep-alive Pool per endpoint (undici's
// Agent keys pools by origin), bodies bridged between web streams and Node streams with backpressure.

import { Readable } from "node:stream";
import { Agent } from "undici";
import type { Dialer, DialerOptions } from "./dial.ts";
import { DEFAULT_CONNECT_TIMEOUT_MS, refuseUpgrade, relayResponse } from "./dial.ts";
import { toAbortSignal } from "../core/abort.ts";
import { asConnectionError } from "../core/connection-error.ts";

export function undiciDialer(opts: { connections?: number } & DialerOptions = {}): Dialer {
  const agent = new Agent({ connections: opts.connections ?? 128, keepAliveTimeout: 30_000, connect: { timeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS } });
  return {
    async dial(ep, req, ctx) {
      refuseUpgrade(req, "the Node adapter's undici");
      // undici takes a flat [name, value, ...] list; repeated names stay separate lines.
      const headers: string[] = [];
      for (let i = 0; i < req.headers.size; i++) headers.push(req.headers.nameAt(i), req.headers.valueAt(i));
      const reqBody =
        req.body instanceof Uint8Array ? req.body : req.body ? Readable.fromWeb(req.body as unknown as import("node:stream/web").ReadableStream) : null;
      let res: Awaited<ReturnType<typeof agent.request>>;
      try {
        res = await agent.request({ origin: `http://${ep.key}`, path: req.path + req.query, method: req.method as "GET", headers, body: reqBody, signal: toAbortSignal(ctx.signal) });
      } catch (e) {
        throw asConnectionError(e);
      }
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        if (Array.isArray(v)) for (const x of v) h.append(k, x);
        else h.append(k, String(v));
      }
      const body = Readable.toWeb(res.body) as unknown as ReadableStream<Uint8Array>;
      return relayResponse(res.statusCode, "", h, body, req.method);
    },
    async close() {
      await agent.close();
    },
  };
}
