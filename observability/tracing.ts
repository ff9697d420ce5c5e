// The request path's view of tracing: start a span under a W3C traceparent, set attributes, end
// it; record a span whose times are already known (name resolution). NO_TRACING costs nothing;
// the OpenTelemetry implementation (otel.ts) is loaded only when spec.tracing asks for export.

import type { CarriedSpan } from "../core/trace-context.ts";

/** One span in flight. `traceparent` is its context, to send on (flags say whether it is sampled). */
export interface TraceSpan extends CarriedSpan {
  set(key: string, value: string | number | boolean): void;
  /** Sets several attributes at once; the span may keep `attributes` itself (pass a fresh object literal). */
  setAll(attributes: Record<string, string | number | boolean>): void;
  /** Marks the span failed with a message (a sidecar-made error's reason, an app's 5xx). */
  fail(message: string): void;
  end(): void;
}

export type SpanKindName = "server" | "client" | "internal";

/** Where a span's context comes from: a traceparent, its parsed fields (core/trace-context.ts), a span of ours, or none (a root). */
export type SpanParent = string | RegExpExecArray | CarriedSpan | null;

export interface Tracing {
  /** False when no exporter is configured: callers keep the plain trace-context behaviour. */
  readonly on: boolean;
  /**
   * A span under `parent` or a new root; the sampler decides whether it records. The parent is a
   * traceparent (a string, or parseTraceparent's match when the caller already parsed it) or a
   * span of this sidecar (its ids are read, not parsed again).
   */
  start(name: string, kind: SpanKindName, parent: SpanParent, tracestate?: string | null): TraceSpan;
  /** A finished span with known start and end (epoch ms), under a sampled `parent`. */
  record(name: string, parent: SpanParent, startMs: number, endMs: number, attributes: Record<string, string | number | boolean>): void;
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
