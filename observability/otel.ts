// Tracing's exporters: Zipkin v2 JSON (zipkin-export.ts), OTLP over gRPC or HTTP (otlp-export.ts,
// with OpenTelemetry's serializers) and stdout (OpenTelemetry's console exporter), each imported only
// when configured. Spans are meshlet's own records (span-records.ts, parent-based ratio sampling)
// queued in a bounded batcher (span-batcher.ts) that exports off the request path.
// docs/decisions.md has the measurements behind each choice.

import { tcpConnect } from "../core/tcp-connect.ts";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Logger } from "../core/log.ts";
import type { OtlpSpec, TracingSpec } from "../config/tracing-spec.ts";
import type { Tracing } from "./tracing.ts";
import type { Dialer } from "../runtime/dial.ts";
import { SpanBatcher, type SpanExport } from "./span-batcher.ts";
import { spanStarter, type SpanRecord } from "./span-records.ts";
import { zipkinExport } from "./zipkin-export.ts";

/** Spans waiting for export at most; more are dropped (counted, logged once a minute). */
const MAX_QUEUE = 2048;
/**
 * 32 waiting spans send an export; one export carries up to 512 (OpenTelemetry's batch size), so
 * a collector far away gets what piled up during its round trip instead of dropped spans. At
 * 2,000 spans a second a sidecar's peak RSS was 4-11 MB lower with 32-span bodies than with 128
 * and 17-18 MB lower than with 512, at about the same CPU (docs/decisions.md).
 */
const FLUSH_AT = 32;
const MAX_BATCH = 512;
const EXPORT_DELAY_MS = 1_000;

/** Counts what exporters could not deliver; says so in the log at most once a minute. */
function counted<T>(exporter: SpanExport<T>, name: string, log: Logger, onLost: (n: number) => void): SpanExport<T> {
  let lastLog = 0;
  return {
    prepare: exporter.prepare,
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
  };
}

/** One of OpenTelemetry's exporters, fed span records (they read ReadableSpan's fields, which records carry as getters). */
function otelExport(e: SpanExporter): SpanExport<SpanRecord> {
  return {
    prepare: (span) => span,
    export: (spans: readonly SpanRecord[], done) => e.export(spans as unknown as Parameters<SpanExporter["export"]>[0], done),
    shutdown: () => e.shutdown(),
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
  void tcpConnect(u.hostname.replace(/^\[|\]$/g, ""), port, 2_000).then((error) => {
    if (error) log.warn("trace collector not reachable at start; spans are dropped until it is (calls are not affected)", { exporter: name, error });
  });
}

/** How logs name an OTLP exporter: `otlp <url>` for HTTP, `otlp grpc <origin>` for gRPC. */
const otlpName = (o: OtlpSpec) => (o.protocol === "grpc" ? `otlp grpc ${o.url}` : `otlp ${o.url}`);

/**
 * `dialer` makes the HTTP client each exporter sends with (one per exporter, closed with it): the
 * sidecar's runtime dialer; without it, node:http.
 */
export async function startOtel(spec: TracingSpec, serviceName: string, log: Logger, onLost: (n: number) => void = () => {}, dialer: (() => Dialer) | null = null): Promise<Tracing> {
  const exporters: Array<[string, SpanExport]> = [];
  if (spec.zipkinUrl) exporters.push([`zipkin ${spec.zipkinUrl}`, zipkinExport(spec.zipkinUrl, serviceName, dialer?.() ?? null)]);
  if (spec.otel) {
    const { otlpExport } = await import("./otlp-export.ts");
    exporters.push([otlpName(spec.otel), otlpExport(spec.otel, dialer?.() ?? null)]);
  }
  if (spec.stdout) {
    const { ConsoleSpanExporter } = await import("@opentelemetry/sdk-trace");
    exporters.push(["stdout", otelExport(new ConsoleSpanExporter())]);
  }
  // OpenTelemetry's Resource only for its own exporters (Zipkin's names the service itself).
  const resource = spec.otel || spec.stdout ? (await import("@opentelemetry/resources")).resourceFromAttributes({ "service.name": serviceName }) : null;
  const batcher = new SpanBatcher(
    exporters.map(([name, e]) => counted(e, name, log, onLost)),
    resource,
    { maxQueue: MAX_QUEUE, delayMs: EXPORT_DELAY_MS, flushAt: FLUSH_AT, maxBatch: MAX_BATCH, onDropped: onLost },
  );
  const start = spanStarter(spec.samplingRate, batcher);
  if (spec.zipkinUrl) warnIfUnreachable(`zipkin ${spec.zipkinUrl}`, spec.zipkinUrl, log);
  if (spec.otel) warnIfUnreachable(otlpName(spec.otel), spec.otel.url, log);
  log.info("tracing", { sampling_rate: spec.samplingRate, exporters: exporters.map(([n]) => n).join(", ") || "none" });
  return {
    on: true,
    start(name, kind, parent, tracestate) {
      return start(name, kind, parent, tracestate);
    },
    record(name, parent, startMs, endMs, attributes) {
      const span = start(name, "internal", parent, null, startMs);
      span.setAll(attributes);
      span.end(endMs);
    },
    async shutdown() {
      await batcher.shutdown();
    },
  };
}
