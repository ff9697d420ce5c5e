// Zipkin v2 JSON export of span records: the fields and tags @opentelemetry/exporter-zipkin sends,
// read straight from the records and POSTed in batches over a keep-alive connection. Measured
// against that exporter in docs/decisions.md.

import http from "node:http";
import https from "node:https";
import type { SpanRecord } from "./span-records.ts";
import { STATUS_ERROR } from "./span-records.ts";
import type { SpanExport } from "./span-batcher.ts";

const KIND_NAME = [undefined, "SERVER", "CLIENT"];
/** An answer slower than this fails the export (the spans are counted as lost). */
const EXPORT_TIMEOUT_MS = 10_000;

/**
 * One span in Zipkin v2's shape, for JSON.stringify (the engine's native serializer is several
 * times cheaper than building the text by hand). Tags are strings; internal spans have no kind,
 * as in OpenTelemetry's mapping; the timestamp is whole epoch µs.
 */
export function zipkinSpan(s: SpanRecord, localEndpoint: { serviceName: string }) {
  const tags: Record<string, string> = {};
  const a = s.attributes;
  for (const k in a) {
    const v = a[k]!;
    tags[k] = typeof v === "string" ? v : String(v);
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

type Result = { code: number; error?: Error };

/**
 * Sends batches of spans to a Zipkin v2 endpoint (`/api/v2/spans`) as one JSON array per POST.
 * node:http rather than fetch: Bun's fetch parses answers with SSE4.2 instructions valgrind cannot
 * run, and bench/instructions.ts counts the exporter's work under valgrind.
 */
export function zipkinExport(url: string, serviceName: string): SpanExport<string> {
  const localEndpoint = { serviceName };
  const target = new URL(url);
  const lib = target.protocol === "https:" ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 2 });
  const sending = new Set<Promise<void>>();
  let shut = false;
  const post = (body: string) =>
    new Promise<Result>((resolve) => {
      const req = lib.request(target, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: EXPORT_TIMEOUT_MS }, (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode! < 400 ? { code: 0 } : { code: 1, error: new Error(`Got unexpected status code from zipkin: ${res.statusCode}`) }));
        res.once("error", (error) => resolve({ code: 1, error }));
      });
      req.once("timeout", () => req.destroy(new Error(`no answer from zipkin in ${EXPORT_TIMEOUT_MS} ms`)));
      req.once("error", (error) => resolve({ code: 1, error }));
      req.end(body);
    });
  return {
    // Each span is queued as its JSON text: one string for the GC instead of a record's objects.
    prepare: (span) => JSON.stringify(zipkinSpan(span, localEndpoint)),
    export(spans, done) {
      if (shut) return done({ code: 1, error: new Error("exporter has been shut down") });
      const p = post(`[${spans.join(",")}]`).then(done);
      sending.add(p);
      void p.finally(() => sending.delete(p));
    },
    async shutdown() {
      shut = true;
      await Promise.all(sending);
      agent.destroy();
    },
  };
}
