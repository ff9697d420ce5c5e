// Zipkin v2 JSON export of span records: the fields and tags @opentelemetry/exporter-zipkin sends,
// read straight from the records and POSTed in batches over the sidecar's own pooled dialer.
// Measured against that exporter and node:http in docs/decisions.md.

import http from "node:http";
import https from "node:https";
import type { SpanRecord } from "./span-records.ts";
import { STATUS_ERROR } from "./span-records.ts";
import type { SpanExport } from "./span-batcher.ts";
import type { Dialer } from "../runtime/dial.ts";
import { HeaderList } from "../core/header-list.ts";

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

type Result = { code: number; error?: Error };
/** Sends one body to the collector; resolves with OpenTelemetry's export result, never rejects. */
type Post = (body: string) => Promise<Result>;

/**
 * Sends batches of spans to a Zipkin v2 endpoint (`/api/v2/spans`) as one JSON array per POST.
 * An http:// collector is sent to through the sidecar's own dialer when one is given (the pooled
 * event-loop client its calls use): Bun's node:http client cost ~2 M instructions per 128-span
 * batch, ~18k per span, five times the dialer (docs/decisions.md). https:// goes through node:https.
 */
export function zipkinExport(url: string, serviceName: string, dialer: Dialer | null = null): SpanExport<string> {
  const localEndpoint = { serviceName };
  const target = new URL(url);
  const post = dialer && target.protocol === "http:" ? dialerPost(target, dialer) : nodeHttpPost(target);
  const sending = new Set<Promise<void>>();
  let shut = false;
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
      await post.close();
    },
  };
}

const answered = (status: number): Result => (status < 400 ? { code: 0 } : { code: 1, error: new Error(`Got unexpected status code from zipkin: ${status}`) });
const failed = (e: unknown): Result => ({ code: 1, error: e instanceof Error ? e : new Error(String(e)) });

/** POSTs through a runtime dialer (pooled keep-alive connections; the body as bytes, one write). */
function dialerPost(target: URL, dialer: Dialer): Post & { close(): Promise<void> } {
  const ep = { host: target.hostname.replace(/^\[|\]$/g, ""), port: Number(target.port || 80), key: target.host };
  const post = async (body: string): Promise<Result> => {
    const headers = HeaderList.of([
      ["host", target.host],
      ["content-type", "application/json"],
    ]);
    const req = { method: "POST", path: target.pathname, query: target.search, headers, body: Buffer.from(body) };
    try {
      const res = await dialer.dial(ep, req, { appId: "zipkin", namespace: "", signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS), connectMs: 0 });
      await res.arrayBuffer();
      return answered(res.status);
    } catch (e) {
      return failed(e);
    }
  };
  return Object.assign(post, { close: () => dialer.close() });
}

/** POSTs through node:http(s) with a keep-alive agent: https collectors, and tests without a runtime. */
function nodeHttpPost(target: URL): Post & { close(): Promise<void> } {
  const lib = target.protocol === "https:" ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 2 });
  const post = (body: string) =>
    new Promise<Result>((resolve) => {
      const req = lib.request(target, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: EXPORT_TIMEOUT_MS }, (res) => {
        res.resume();
        res.once("end", () => resolve(answered(res.statusCode!)));
        res.once("error", (error) => resolve(failed(error)));
      });
      req.once("timeout", () => req.destroy(new Error(`no answer from zipkin in ${EXPORT_TIMEOUT_MS} ms`)));
      req.once("error", (error) => resolve(failed(error)));
      req.end(body);
    });
  return Object.assign(post, { close: async () => agent.destroy() });
}
