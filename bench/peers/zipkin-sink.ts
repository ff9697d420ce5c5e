// A Zipkin v2 and OTLP/HTTP JSON receiver for the benchmark's tracing paths: accepts span batches
// on loopback and counts them (GET answers the count), as a collector would, storing nothing.
//   bun bench/peers/zipkin-sink.ts <port>

let spans = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[2]),
  async fetch(req) {
    if (req.method === "GET") return new Response(String(spans));
    const body = (await req.json()) as unknown[] | { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
    if (Array.isArray(body)) spans += body.length;
    else for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
    return new Response(null, { status: 202 });
  },
});
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
