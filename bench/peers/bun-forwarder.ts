// A bare HTTP forwarder on meshlet's own transport: meshlet's listener in (runtime/listen-bun.ts,
// Bun.listen + h1-server.ts), meshlet's socket dialer out (runtime/dial-socket.ts), nothing else:
// no routing by app-id, no policy layers, no header rules, no tracing. A benchmark peer only:
// meshlet minus its features, so the report shows what the HTTP handling costs and what
// meshlet adds on top.

import { listenBun } from "../../runtime/listen-bun.ts";
import { socketDialer } from "../../runtime/dial-socket.ts";
import { endpoint, type ProxyRequest } from "../../core/call.ts";
import { splitUrl } from "../../proxy/route.ts";

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
if (!listenPort || !upstreamPort) throw new Error("usage: bun-forwarder.ts <listen-port> <upstream-port>");
const upstream = endpoint("127.0.0.1", upstreamPort);
const dialer = socketDialer();
// The sidecar path the bench uses (/v1.0/invoke/app/method/x) maps to the app's /method/x.
const INVOKE = "/v1.0/invoke/app";

await listenBun({
  host: "127.0.0.1",
  port: listenPort,
  maxHeaderBytes: 16 * 1024,
  handler(req) {
    const { path, query } = splitUrl(req.target);
    // The dialer writes host, content-length and framing itself and skips hop-by-hop headers.
    const preq: ProxyRequest = { method: req.method, path: path.startsWith(INVOKE) ? path.slice(INVOKE.length) : path, query, headers: req.headers, body: req.body };
    return dialer.dial(upstream, preq, { appId: "app", namespace: "default", signal: req.signal });
  },
});
