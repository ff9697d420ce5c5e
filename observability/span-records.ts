// Spans as plain records the OpenTelemetry exporters accept (the ReadableSpan fields that
// exporter-zipkin and the OTLP transformer read), made without the SDK's tracer: a sampled call
// costs a few objects instead of the SDK's span lifecycle (~27k instructions per span measured).
// Ids are random hex, sampling is parent-based over a ratio, as Dapr configures it.

import type { SpanKindName, TraceSpan } from "./tracing.ts";

/** OpenTelemetry's numbers for span kinds and status codes (api.SpanKind, api.SpanStatusCode). */
const KIND: Record<SpanKindName, number> = { internal: 0, server: 1, client: 2 };
const STATUS_ERROR = 2;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

type HrTime = [number, number];
type Attributes = Record<string, string | number | boolean>;

function hex8(): string {
  return ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, "0");
}
const newTraceId = () => hex8() + hex8() + hex8() + hex8();
const newSpanId = () => hex8() + hex8();

/** Epoch ms (fractional) as OpenTelemetry's [seconds, nanoseconds]. */
export function hrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** Wall-clock ms with sub-millisecond precision. */
const nowMs = () => performance.timeOrigin + performance.now();

export interface SpanSink {
  readonly resource: unknown;
  readonly scope: { name: string };
  push(span: SpanRecord): void;
}

/** One span: what the request path sets, and the fields exporters read once it ended. */
export class SpanRecord implements TraceSpan {
  readonly traceparent: string;
  readonly attributes: Attributes = {};
  status: { code: number; message?: string } = { code: 0 };
  readonly kind: number;
  startTime: HrTime;
  endTime: HrTime = [0, 0];
  duration: HrTime = [0, 0];
  ended = false;
  readonly events: never[] = [];
  readonly links: never[] = [];
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly parentSpanContext: { traceId: string; spanId: string; traceFlags: number; isRemote: boolean } | undefined;
  private readonly context: { traceId: string; spanId: string; traceFlags: number; traceState?: { serialize(): string } };
  private readonly startMs: number;

  constructor(
    readonly name: string,
    kind: SpanKindName,
    traceId: string,
    parentSpanId: string | null,
    readonly sampled: boolean,
    tracestate: string | null,
    private readonly sink: SpanSink,
    startMs = nowMs(),
  ) {
    const spanId = newSpanId();
    this.kind = KIND[kind];
    this.traceparent = `00-${traceId}-${spanId}-0${sampled ? 1 : 0}`;
    this.context = { traceId, spanId, traceFlags: sampled ? 1 : 0, ...(tracestate ? { traceState: { serialize: () => tracestate } } : {}) };
    this.parentSpanContext = parentSpanId ? { traceId, spanId: parentSpanId, traceFlags: 1, isRemote: true } : undefined;
    this.startMs = startMs;
    this.startTime = hrTime(startMs);
  }

  spanContext() {
    return this.context;
  }
  get resource() {
    return this.sink.resource;
  }
  get instrumentationScope() {
    return this.sink.scope;
  }

  set(key: string, value: string | number | boolean): void {
    if (this.sampled) this.attributes[key] = value;
  }
  fail(message: string): void {
    if (this.sampled) this.status = { code: STATUS_ERROR, message };
  }
  end(endMs = nowMs()): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.sampled) return;
    this.endTime = hrTime(endMs);
    this.duration = hrTime(Math.max(0, endMs - this.startMs));
    this.sink.push(this);
  }
}

/** Starts spans: a child of a valid traceparent (following its sampled flag) or a new root sampled at `rate`. */
export function spanStarter(rate: number, sink: SpanSink, random: () => number = Math.random) {
  return (name: string, kind: SpanKindName, parent: string | null, tracestate?: string | null, startMs?: number): SpanRecord => {
    const m = parent ? TRACEPARENT.exec(parent) : null;
    if (m && m[1] !== "00000000000000000000000000000000" && m[2] !== "0000000000000000") {
      return new SpanRecord(name, kind, m[1]!, m[2]!, (parseInt(m[3]!, 16) & 1) === 1, tracestate ?? null, sink, startMs);
    }
    return new SpanRecord(name, kind, newTraceId(), null, rate > 0 && random() < rate, null, sink, startMs);
  };
}
