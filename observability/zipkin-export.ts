// Zipkin v2 JSON export of span records: the fields and tags @opentelemetry/exporter-zipkin sends,
// read straight from the records and POSTed in batches (collector-post.ts). Measured against that
// exporter in docs/decisions.md.

import type { SpanRecord } from "./span-records.ts";
import { STATUS_ERROR } from "./span-records.ts";
import type { SpanExport } from "./span-batcher.ts";
import type { Dialer } from "../runtime/dial.ts";
import { collectorExport, collectorPost, EXPORT_RETRY, type RetryOptions } from "./collector-post.ts";

const KIND_NAME = [undefined, "SERVER", "CLIENT"];
/** An answer slower than this fails the export (the spans are counted as lost). */
const EXPORT_TIMEOUT_MS = 10_000;

/**
 * One span in Zipkin v2's shape, for JSON.stringify (the engine's native serializer is several
 * times cheaper than building the text by hand). Tags are strings; internal spans have no kind,
 * as in OpenTelemetry's mapping; the timestamp is whole epoch µs.
 */
export function zipkinSpan(s: SpanRecord, localEndpoint: { serviceName: string }) {
  // A copy in one native call; only the few numbers and booleans are rewritten (Zipkin's tags are strings).
  const tags = Object.assign({}, s.attributes) as Record<string, string>;
  for (const k in tags) {
    const v = tags[k] as unknown;
    if (typeof v !== "string") tags[k] = String(v);
  }
  if (s.statusCode !== 0) tags["otel.status_code"] = s.statusCode === STATUS_ERROR ? "ERROR" : "OK";
  if (s.statusCode === STATUS_ERROR && s.statusMessage) tags["error"] = s.statusMessage;
  tags["service.name"] = localEndpoint.serviceName;
  return {
    traceId: s.traceId,
    parentId: s.parentId ?? undefined,
    name: s.name,
    id: s.spanId,
    kind: KIND_NAME[s.kind],
    timestamp: Math.round(s.startMs * 1000),
    duration: Math.round(Math.max(0, s.endMs - s.startMs) * 1000),
    localEndpoint,
    tags,
  };
}

/**
 * Sends batches of spans to a Zipkin v2 endpoint (`/api/v2/spans`) as one JSON array per POST,
 * through the sidecar's dialer where it can (collector-post.ts).
 */
export function zipkinExport(url: string, serviceName: string, dialer: Dialer | null = null, retry: RetryOptions = EXPORT_RETRY): SpanExport<string> {
  const localEndpoint = { serviceName };
  const post = collectorPost(url, { name: "zipkin", contentType: "application/json", timeoutMs: EXPORT_TIMEOUT_MS }, dialer);
  // Each span is queued as its JSON text: one string for the GC instead of a record's objects.
  return collectorExport(
    post,
    (span) => JSON.stringify(zipkinSpan(span, localEndpoint)),
    (spans) => `[${spans.join(",")}]`,
    retry,
  );
}
