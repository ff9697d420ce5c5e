// An OTLP/gRPC trace collector on loopback for the exporter tests, built on @grpc/grpc-js (an
// independent gRPC implementation): keeps each Export call's metadata and request, decoded from
// protobuf (otlp-proto.ts), and answers with the gRPC status the test sets. Plain or TLS.

import * as grpc from "@grpc/grpc-js";
import fs from "node:fs";
import { decodeTraceRequest, type OtlpTraceRequest } from "./otlp-proto.ts";

export interface OtlpGrpcReceiver {
  /** The origin to export to: http://127.0.0.1:port (https:// with TLS). */
  readonly url: string;
  readonly port: number;
  /** Each call: its metadata, the client's address and port (one per connection), the request as sent and decoded. */
  readonly calls: Array<{ metadata: Record<string, unknown>; peer: string; bytes: Buffer; request: OtlpTraceRequest }>;
  /** The status Export answers with (grpc.status.OK unless a test sets another). */
  code: grpc.status;
  /** Export does not answer at all while this is set (a hung collector). */
  hang: boolean;
  /** The next this-many calls are answered UNAVAILABLE (a collector restarting). */
  failures: number;
  /** Sent as grpc-status-details-bin with an error status (a google.rpc.Status), when set. */
  details: Buffer | null;
  close(): Promise<void>;
}

export async function otlpGrpcReceiver(tls?: { cert: string; key: string }): Promise<OtlpGrpcReceiver> {
  const server = new grpc.Server();
  const calls: OtlpGrpcReceiver["calls"] = [];
  const pass = (b: Buffer) => b;
  server.addService(
    {
      Export: {
        path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        requestStream: false,
        responseStream: false,
        requestSerialize: pass,
        requestDeserialize: pass,
        responseSerialize: pass,
        responseDeserialize: pass,
        originalName: "export",
      },
    },
    {
      Export(call: grpc.ServerUnaryCall<Buffer, Buffer>, answer: grpc.sendUnaryData<Buffer>) {
        calls.push({ metadata: call.metadata.getMap(), peer: call.getPeer(), bytes: call.request, request: decodeTraceRequest(call.request) });
        if (rx.hang) return;
        if (rx.failures > 0) {
          rx.failures--;
          return answer({ code: grpc.status.UNAVAILABLE, details: "restarting (test)" });
        }
        if (rx.code === grpc.status.OK) answer(null, Buffer.alloc(0));
        else {
          const metadata = new grpc.Metadata();
          if (rx.details) metadata.set("grpc-status-details-bin", rx.details);
          answer({ code: rx.code, details: "collector says no (test)", metadata });
        }
      },
    },
  );
  const creds = tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: fs.readFileSync(tls.cert), private_key: fs.readFileSync(tls.key) }]) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", creds, (e, p) => (e ? reject(e) : resolve(p))));
  const rx: OtlpGrpcReceiver = {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    calls,
    code: grpc.status.OK,
    hang: false,
    failures: 0,
    details: null,
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
  return rx;
}
