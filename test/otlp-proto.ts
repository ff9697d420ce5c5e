// OTLP's trace request decoded from protobuf for the exporter tests, with protobufjs and a schema
// of the opentelemetry-proto fields the tests read (field numbers as in the .proto files).

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
export interface OtlpTraceSpan {
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
export interface OtlpTraceRequest {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: AnyValue }> }; scopeSpans: Array<{ scope: { name: string }; spans: OtlpTraceSpan[] }> }>;
}

/** The request as plain data: ids as hex, 64-bit numbers as decimal strings. */
export function decodeTraceRequest(bytes: Uint8Array): OtlpTraceRequest {
  return hexIds(Request.toObject(Request.decode(bytes), { longs: String, defaults: true, arrays: true }) as unknown as OtlpTraceRequest);
}

function hexIds(r: OtlpTraceRequest): OtlpTraceRequest {
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
