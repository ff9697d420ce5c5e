// Tracing on the OpenTelemetry JS SDK: a TracerProvider with a parent-based ratio sampler and a
// batch processor per exporter (Zipkin v2 JSON, OTLP over HTTP, stdout), so export runs off the
// request path with a bounded queue. Loaded only when spec.tracing names an exporter
// (docs/decisions.md has the memory and per-span cost).

import net from "node:net";
import * as api from "@opentelemetry/api";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { Logger } from "../core/log.ts";
import type { TracingSpec } from "../config/tracing-spec.ts";
import type { SpanKindName, TraceSpan, Tracing } from "./tracing.ts";

const KIND: Record<SpanKindName, api.SpanKind> = { server: api.SpanKind.SERVER, client: api.SpanKind.CLIENT, internal: api.SpanKind.INTERNAL };
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Spans waiting for export at most; more are dropped (counted, logged once a minute). */
const MAX_QUEUE = 2048;
const EXPORT_DELAY_MS = 1_000;

function parentContext(traceparent: string | null, tracestate?: string | null): api.Context {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m) return api.ROOT_CONTEXT;
  return api.trace.setSpanContext(api.ROOT_CONTEXT, {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: parseInt(m[3]!, 16) & 1,
    isRemote: true,
    traceState: tracestate ? api.createTraceState(tracestate) : undefined,
  });
}

function toTraceparent(c: api.SpanContext): string {
  return `00-${c.traceId}-${c.spanId}-0${c.traceFlags & 1}`;
}

class OtelSpan implements TraceSpan {
  readonly traceparent: string;
  readonly sampled: boolean;
  constructor(private readonly span: api.Span) {
    const c = span.spanContext();
    this.traceparent = toTraceparent(c);
    this.sampled = (c.traceFlags & 1) === 1;
  }
  set(key: string, value: string | number | boolean): void {
    if (this.sampled) this.span.setAttribute(key, value);
  }
  fail(message: string): void {
    if (this.sampled) this.span.setStatus({ code: api.SpanStatusCode.ERROR, message });
  }
  end(): void {
    this.span.end();
  }
}

/** Counts what exporters could not deliver; says so in the log at most once a minute. */
function counted(exporter: SpanExporter, name: string, log: Logger, onLost: (n: number) => void): SpanExporter {
  let lastLog = 0;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== 0) {
          onLost(spans.length);
          const now = Date.now();
          if (now - lastLog > 60_000) {
            lastLog = now;
            log.warn("trace export failed; spans dropped (calls are not affected)", { exporter: name, spans: spans.length, error: result.error?.message ?? "unknown" });
          }
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/**
 * Says at start, once, when a collector does not accept connections: spans will be dropped until
 * it does, and calls go on. Runs in the background; it never delays the sidecar's start.
 */
function warnIfUnreachable(name: string, url: string, log: Logger): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return;
  }
  const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  const s = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ""), port });
  const done = (error: string | null) => {
    s.destroy();
    if (error) log.warn("trace collector not reachable at start; spans are dropped until it is (calls are not affected)", { exporter: name, error });
  };
  s.setTimeout(2_000, () => done("no answer in 2 s"));
  s.once("connect", () => done(null));
  s.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
}

export async function startOtel(spec: TracingSpec, serviceName: string, log: Logger, onLost: (n: number) => void = () => {}): Promise<Tracing> {
  const exporters: Array<[string, SpanExporter]> = [];
  if (spec.zipkinUrl) {
    const { ZipkinExporter } = await import("@opentelemetry/exporter-zipkin");
    exporters.push([`zipkin ${spec.zipkinUrl}`, new ZipkinExporter({ url: spec.zipkinUrl })]);
  }
  if (spec.otel) {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    exporters.push([`otlp ${spec.otel.url}`, new OTLPTraceExporter({ url: spec.otel.url, headers: spec.otel.headers, timeoutMillis: spec.otel.timeoutMs })]);
  }
  if (spec.stdout) {
    const { ConsoleSpanExporter } = await import("@opentelemetry/sdk-trace");
    exporters.push(["stdout", new ConsoleSpanExporter()]);
  }
  // The SDK reports a full queue through its diagnostics channel: counted and logged, never thrown.
  api.diag.setLogger(
    {
      error: () => {},
      warn: (msg: string) => {
        const m = /Dropped (\d+) spans/.exec(msg);
        if (m) onLost(Number(m[1]));
      },
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    api.DiagLogLevel.WARN,
  );
  const spanProcessors: SpanProcessor[] = exporters.map(
    ([name, e]) => new BatchSpanProcessor({ exporter: counted(e, name, log, onLost), maxQueueSize: MAX_QUEUE, scheduledDelayMillis: EXPORT_DELAY_MS }),
  );
  const provider = new TracerProvider({
    // exporter-zipkin ignores its serviceName option: the resource names the service.
    resource: resourceFromAttributes({ "service.name": serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(spec.samplingRate) }),
    spanProcessors,
  });
  const tracer = provider.getTracer("meshlet");
  if (spec.zipkinUrl) warnIfUnreachable(`zipkin ${spec.zipkinUrl}`, spec.zipkinUrl, log);
  if (spec.otel) warnIfUnreachable(`otlp ${spec.otel.url}`, spec.otel.url, log);
  log.info("tracing", { sampling_rate: spec.samplingRate, exporters: exporters.map(([n]) => n).join(", ") || "none" });
  return {
    on: true,
    start(name, kind, parent, tracestate) {
      return new OtelSpan(tracer.startSpan(name, { kind: KIND[kind] }, parentContext(parent, tracestate)));
    },
    record(name, parent, startMs, endMs, attributes) {
      const span = tracer.startSpan(name, { kind: api.SpanKind.INTERNAL, startTime: startMs, attributes }, parentContext(parent));
      span.end(endMs);
    },
    async shutdown() {
      await provider.shutdown().catch(() => {});
    },
  };
}
