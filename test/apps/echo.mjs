// A small real app for tests and the demo: echoes what it received as JSON, and has routes for
// status codes, big and slow bodies. Port from APP_PORT (or argv[2]); plain node:http.
import http from "node:http";
import crypto from "node:crypto";

const port = Number(process.env.APP_PORT || process.argv[2] || 3000);
const name = process.env.APP_ID || "echo";

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    console.log(`[${name}] request ${req.method} ${req.url} failed: ${e.message}`);
    res.destroy();
  });
});

async function handle(req, res) {
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
  if (url.pathname === "/drip") {
    // Headers at once, then one chunk every 100 ms until the client goes away.
    res.writeHead(200, { "content-type": "text/plain" });
    const t = setInterval(() => res.write("x"), 100);
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
