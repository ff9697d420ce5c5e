// An OTLP/gRPC trace collector on loopback for the exporter tests, built on @grpc/grpc-js (an
// independent gRPC implementation): keeps each Export call's metadata and request, decoded from
// protobuf with the fields of opentelemetry-proto the tests read, and answers with the gRPC
// status the test sets. Plain or TLS.

import * as grpc from "@grpc/grpc-js";
import fs from "node:fs";
import protobuf from "protobufjs";

/** opentelemetry-proto's trace request, the fields the tests look at (field numbers as in the .proto files). */
const root = protobuf.Root.fromJSON({
  nested: {
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: "repeated", type: "ResourceSpans", id: 1 } } },
    ResourceSpans: { fields: { resource: { type: "Resource", id: 1 }, scopeSpans: { rule: "repeated", type: "ScopeSpans", id: 2 } } },
    Resource: { fields: { attributes: { rule: "repeated", type: "KeyValue", id: 1 } } },
    ScopeSpans: { fields: { scope: { type: "InstrumentationScope", id: 1 }, spans: { rule: "repeated", type: "Span", id: 2 } } },
    InstrumentationScope: { fields: { name: { type: "string", id: 1 } } },
    Span: {
      fields: {
        traceId: { type: "bytes", id: 1 },
        spanId: { type: "bytes", id: 2 },
        traceState: { type: "string", id: 3 },
        parentSpanId: { type: "bytes", id: 4 },
        name: { type: "string", id: 5 },
        kind: { type: "int32", id: 6 },
        startTimeUnixNano: { type: "fixed64", id: 7 },
        endTimeUnixNano: { type: "fixed64", id: 8 },
        attributes: { rule: "repeated", type: "KeyValue", id: 9 },
        status: { type: "Status", id: 15 },
      },
    },
    Status: { fields: { message: { type: "string", id: 2 }, code: { type: "int32", id: 3 } } },
    KeyValue: { fields: { key: { type: "string", id: 1 }, value: { type: "AnyValue", id: 2 } } },
    AnyValue: {
      oneofs: { value: { oneof: ["stringValue", "boolValue", "intValue", "doubleValue"] } },
      fields: { stringValue: { type: "string", id: 1 }, boolValue: { type: "bool", id: 2 }, intValue: { type: "int64", id: 3 }, doubleValue: { type: "double", id: 4 } },
    },
  },
});
const Request = root.lookupType("ExportTraceServiceRequest");

export type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number };
export interface OtlpGrpcSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: AnyValue }>;
  status?: { code?: number; message?: string };
}
export interface OtlpGrpcRequest {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: AnyValue }> }; scopeSpans: Array<{ scope: { name: string }; spans: OtlpGrpcSpan[] }> }>;
}

/** The request as plain data: ids as hex, 64-bit numbers as decimal strings. */
export function decodeTraceRequest(bytes: Uint8Array): OtlpGrpcRequest {
  return hexIds(Request.toObject(Request.decode(bytes), { longs: String, defaults: true, arrays: true }) as unknown as OtlpGrpcRequest);
}

function hexIds(r: OtlpGrpcRequest): OtlpGrpcRequest {
  const hex = (v: unknown) => Buffer.from(v as Uint8Array).toString("hex");
  for (const rs of r.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        s.traceId = hex(s.traceId);
        s.spanId = hex(s.spanId);
        s.parentSpanId = hex(s.parentSpanId);
      }
  return r;
}

export interface OtlpGrpcReceiver {
  /** The origin to export to: http://127.0.0.1:port (https:// with TLS). */
  readonly url: string;
  readonly port: number;
  /** Each call: its metadata, the client's address and port (one per connection), the request as sent and decoded. */
  readonly calls: Array<{ metadata: Record<string, unknown>; peer: string; bytes: Buffer; request: OtlpGrpcRequest }>;
  /** The status Export answers with (grpc.status.OK unless a test sets another). */
  code: grpc.status;
  /** Export does not answer at all while this is set (a hung collector). */
  hang: boolean;
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
        if (rx.code === grpc.status.OK) answer(null, Buffer.alloc(0));
        else answer({ code: rx.code, details: "collector says no (test)" });
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
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
  return rx;
}
