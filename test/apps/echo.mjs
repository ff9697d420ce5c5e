// A small real app for tests and the demo: echoes what it received as JSON, and has routes for
// status codes, big and slow bodies. Port from APP_PORT (or argv[2]); plain node:http.
import http from "node:http";
import crypto from "node:crypto";

const port = Number(process.env.APP_PORT || process.argv[2] || 3000);
const name = process.env.APP_ID || "echo";

// Per-key attempt counters for /flaky and /count (resiliency tests).
const attempts = new Map();

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    console.log(`[${name}] request ${req.method} ${req.url} failed: ${e.message}`);
    res.destroy();
  });
});

// DELAY_MS: a fixed delay before every answer (to make one instance slower than another).
const delayMs = Number(process.env.DELAY_MS || 0);

async function handle(req, res) {
  if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/big") {
    // A streamed body of ?mb= megabytes, generated on the fly.
    const mb = Number(url.searchParams.get("mb") || 100);
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(mb * 1024 * 1024) });
    const chunk = Buffer.alloc(1024 * 1024, 97);
    let i = 0;
    const write = () => {
      while (i < mb) {
        i++;
        if (!res.write(chunk)) return res.once("drain", write);
      }
      res.end();
    };
    write();
    return;
  }
  if (url.pathname === "/slow") {
    await new Promise((r) => setTimeout(r, Number(url.searchParams.get("ms") || 2000)));
    res.end("slow done");
    return;
  }
  if (url.pathname === "/reset") {
    // Vanish before answering: the connection is destroyed with no response.
    req.socket.destroy();
    return;
  }
  if (url.pathname === "/flaky") {
    // Fails the first ?fail= attempts per ?key= with ?status= (default 503), then succeeds.
    for await (const _ of req);
    const key = url.searchParams.get("key") || "default";
    const n = (attempts.get(key) || 0) + 1;
    attempts.set(key, n);
    if (n <= Number(url.searchParams.get("fail") || 0)) {
      const headers = { "content-type": "application/json" };
      if (url.searchParams.get("retryAfter")) headers["retry-after"] = url.searchParams.get("retryAfter");
      res.writeHead(Number(url.searchParams.get("status") || 503), headers);
      res.end(JSON.stringify({ attempt: n, failed: true }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ attempt: n }));
    return;
  }
  if (url.pathname === "/hedge") {
    // The first request per ?key= stalls ?ms= (default 3000) before answering, as an instance in
    // a GC pause would; later ones answer at once. Each answer says which arrival it was.
    const key = `hedge:${url.searchParams.get("key") || "default"}`;
    const n = (attempts.get(key) || 0) + 1;
    attempts.set(key, n);
    if (n === 1) await new Promise((r) => setTimeout(r, Number(url.searchParams.get("ms") || 3000)));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ arrival: n }));
    return;
  }
  if (url.pathname === "/count") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ attempts: attempts.get(url.searchParams.get("key") || "default") || 0 }));
    return;
  }
  if (url.pathname === "/sse") {
    // Server-sent events: ?n= events (default 3) ?gap= ms apart (default 1000), then the end;
    // ?type= overrides the content type (to show what a plain stream gets).
    res.writeHead(200, { "content-type": url.searchParams.get("type") || "text/event-stream", "cache-control": "no-cache" });
    const n = Number(url.searchParams.get("n") || 3);
    const gap = Number(url.searchParams.get("gap") || 1000);
    for (let i = 1; i <= n; i++) {
      if (i > 1) await new Promise((r) => setTimeout(r, gap));
      if (res.destroyed) return;
      res.write(`data: ${i}\n\n`);
    }
    res.end();
    return;
  }
  if (url.pathname === "/drip") {
    // Headers at once, then one chunk every 100 ms: ?n= chunks then end (default: until the
    // client goes away); ?stall=1 stops sending after n chunks without ending.
    res.writeHead(200, { "content-type": "text/plain" });
    const limit = Number(url.searchParams.get("n") || Infinity);
    let sent = 0;
    const t = setInterval(() => {
      if (sent >= limit) {
        clearInterval(t);
        if (!url.searchParams.get("stall")) res.end();
        return;
      }
      sent++;
      res.write("x");
    }, 100);
    res.on("close", () => {
      clearInterval(t);
      console.log(`[${name}] drip closed`);
    });
    return;
  }
  const hash = crypto.createHash("sha256");
  let size = 0;
  const chunks = [];
  for await (const c of req) {
    hash.update(c);
    size += c.length;
    if (size <= 65536) chunks.push(c);
  }
  if (url.pathname.startsWith("/status/")) {
    res.writeHead(Number(url.pathname.slice(8)), { "content-type": "application/json", "x-app": name });
    res.end(JSON.stringify({ error: "app said so" }));
    return;
  }
  if (url.pathname === "/nocontenttype") {
    res.end(JSON.stringify({ raw: true }));
    return;
  }
  const body = Buffer.concat(chunks);
  res.writeHead(200, { "content-type": "application/json", "x-app": name, "set-cookie": ["a=1", "b=2"] });
  res.end(
    JSON.stringify({
      app: name,
      port,
      method: req.method,
      url: req.url,
      remotePort: req.socket.remotePort,
      headers: req.headers,
      size,
      sha256: hash.digest("hex"),
      body: size <= 65536 ? body.toString("utf8") : null,
    }),
  );
}
server.listen(port, process.env.APP_HOST || "127.0.0.1", () => console.log(`[${name}] listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
