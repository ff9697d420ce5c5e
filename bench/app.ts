// The benchmark's app: a minimal Bun HTTP server. GET answers 1 KiB (or ?size= bytes), POST/PUT
// echo the body as a stream, /big?mb= streams a large body. Port from argv[2].

const port = Number(process.argv[2] ?? 3000);
const KB = new Uint8Array(1024).fill(120);
const MB = new Uint8Array(1024 * 1024).fill(97);

Bun.serve({
  hostname: "127.0.0.1",
  port,
  idleTimeout: 0,
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname.endsWith("/big")) {
      const mb = Number(url.searchParams.get("mb") ?? 100);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent++ >= mb) return c.close();
          c.enqueue(MB);
        },
      });
      return new Response(body, { headers: { "content-type": "application/octet-stream" } });
    }
    if (req.method === "POST" || req.method === "PUT") {
      const h: Record<string, string> = { "content-type": req.headers.get("content-type") ?? "application/octet-stream" };
      const cl = req.headers.get("content-length");
      if (cl) h["content-length"] = cl;
      return new Response(req.body, { headers: h });
    }
    return new Response(KB, { headers: { "content-type": "text/plain" } });
  },
});
console.log(`bench app listening on ${port}`);
