// An OTLP/gRPC receiver for the benchmark's tracing paths: answers TraceService/Export over
// cleartext HTTP/2 (node:http2) with grpc-status 0 and counts the spans it got, decoded from
// protobuf; the count is served over HTTP/1.1 on a second port, as a collector would, storing nothing.
//   bun bench/peers/otlp-grpc-sink.ts <grpc port> <count port>

import http2 from "node:http2";
import { decodeTraceRequest } from "../../test/otlp-proto.ts";

let spans = 0;
const grpc = http2.createServer();
grpc.on("stream", (stream) => {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", () => {
    // One message: gRPC's 5-byte prefix, then ExportTraceServiceRequest.
    const body = Buffer.concat(chunks).subarray(5);
    for (const rs of decodeTraceRequest(body).resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    // An empty ExportTraceServiceResponse.
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
});
grpc.listen(Number(process.argv[2]), "127.0.0.1");
const count = Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[3]), fetch: () => new Response(String(spans)) });
process.on("SIGTERM", () => {
  void count.stop(true);
  grpc.close();
  process.exit(0);
});
