// The request path's view of tracing: start a span under a W3C traceparent, set attributes, end
// it; record a span whose times are already known (name resolution). NO_TRACING costs nothing;
// the OpenTelemetry implementation (otel.ts) is loaded only when spec.tracing asks for export.

/** One span in flight. `traceparent` is its context, to send on (flags say whether it is sampled). */
export interface TraceSpan {
  readonly traceparent: string;
  readonly sampled: boolean;
  set(key: string, value: string | number | boolean): void;
  /** Sets several attributes at once; the span may keep `attributes` itself (pass a fresh object literal). */
  setAll(attributes: Record<string, string | number | boolean>): void;
  /** Marks the span failed with a message (a sidecar-made error's reason, an app's 5xx). */
  fail(message: string): void;
  end(): void;
}

export type SpanKindName = "server" | "client" | "internal";

export interface Tracing {
  /** False when no exporter is configured: callers keep the plain trace-context behaviour. */
  readonly on: boolean;
  /** A span under `parent` (a valid traceparent) or a new root; the sampler decides whether it records. */
  start(name: string, kind: SpanKindName, parent: string | null, tracestate?: string | null): TraceSpan;
  /** A finished span with known start and end (epoch ms), under a sampled `parent`. */
  record(name: string, parent: string, startMs: number, endMs: number, attributes: Record<string, string | number | boolean>): void;
  shutdown(): Promise<void>;
}

export const NO_TRACING: Tracing = {
  on: false,
  start() {
    throw new Error("tracing is off");
  },
  record() {},
  shutdown: async () => {},
};

/** Whether a traceparent's sampled flag is set. */
export function sampledFlag(traceparent: string): boolean {
  return (parseInt(traceparent.slice(53, 55), 16) & 1) === 1;
}
