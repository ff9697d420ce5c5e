// OTLP/HTTP export of span records: OpenTelemetry's own JSON serializer
// (@opentelemetry/otlp-transformer) makes each batch's body, POSTed like Zipkin's through the
// sidecar's dialer (collector-post.ts) instead of the OTLP exporter's node:http client.

import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { SpanRecord } from "./span-records.ts";
import type { SpanExport } from "./span-batcher.ts";
import type { Dialer } from "../runtime/dial.ts";
import { collectorExport, collectorPost } from "./collector-post.ts";

export interface OtlpTarget {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
}

/** Records are queued as they are: the serializer reads their ReadableSpan fields (and resource) at export. */
export function otlpExport(t: OtlpTarget, dialer: Dialer | null): SpanExport<SpanRecord> {
  const post = collectorPost(t.url, { name: "otlp", contentType: "application/json", headers: t.headers, timeoutMs: t.timeoutMs }, dialer);
  return collectorExport(
    post,
    (span) => span,
    (spans) => JsonTraceSerializer.serializeRequest(spans as unknown as Parameters<typeof JsonTraceSerializer.serializeRequest>[0]) ?? null,
  );
}
