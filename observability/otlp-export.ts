// OTLP export of span records, over gRPC (Dapr's default) or HTTP: OpenTelemetry's own serializers
// (@opentelemetry/otlp-transformer) make each batch's body, protobuf for gRPC and JSON for HTTP.
// gRPC goes through node:http2 (grpc-post.ts); HTTP is POSTed like Zipkin's, through the sidecar's
// dialer (collector-post.ts) instead of the OTLP exporter's node:http client.

import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { OtlpSpec } from "../config/tracing-spec.ts";
import type { SpanRecord } from "./span-records.ts";
import type { SpanExport } from "./span-batcher.ts";
import type { Dialer } from "../runtime/dial.ts";
import { collectorExport, collectorPost, EXPORT_RETRY, type RetryOptions } from "./collector-post.ts";
import { grpcPost } from "./grpc-post.ts";

/** OTLP's trace service method (opentelemetry-proto, collector/trace/v1). */
export const OTLP_GRPC_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

type Spans = Parameters<typeof JsonTraceSerializer.serializeRequest>[0];

/** Records are queued as they are: the serializer reads their ReadableSpan fields (and resource) at export. */
export function otlpExport(t: OtlpSpec, dialer: Dialer | null, retry: RetryOptions = EXPORT_RETRY): SpanExport<SpanRecord> {
  const grpc = t.protocol === "grpc";
  const post = grpc
    ? grpcPost(t.url, { name: "otlp", path: OTLP_GRPC_PATH, headers: t.headers, timeoutMs: t.timeoutMs })
    : collectorPost(t.url, { name: "otlp", contentType: "application/json", headers: t.headers, timeoutMs: t.timeoutMs }, dialer);
  const serializer = grpc ? ProtobufTraceSerializer : JsonTraceSerializer;
  return collectorExport(
    post,
    (span) => span,
    (spans) => serializer.serializeRequest(spans as unknown as Spans) ?? null,
    retry,
  );
}
