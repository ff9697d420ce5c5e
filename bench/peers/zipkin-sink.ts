// A Zipkin v2 receiver for the benchmark's tracing paths: accepts span batches on loopback and
// counts them, as a collector would, without storing anything.
//   bun bench/peers/zipkin-sink.ts <port>

let spans = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[2]),
  async fetch(req) {
    if (req.method === "GET") return new Response(String(spans));
    const body = (await req.json()) as unknown[];
    spans += body.length;
    return new Response(null, { status: 202 });
  },
});
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
