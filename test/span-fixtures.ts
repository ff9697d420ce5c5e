// Span records for the exporter tests: a sampler that records every span into a list, with the
// resource (service.name) and scope the OTLP serializers read.

import { resourceFromAttributes } from "@opentelemetry/resources";
import { spanStarter, type SpanRecord } from "../observability/span-records.ts";

export function recording(serviceName = "storefront"): { spans: SpanRecord[]; start: ReturnType<typeof spanStarter> } {
  const spans: SpanRecord[] = [];
  const sink = { resource: resourceFromAttributes({ "service.name": serviceName }), scope: { name: "meshlet" }, push: (s: SpanRecord) => void spans.push(s) };
  return { spans, start: spanStarter(1, sink) };
}
