// Spans as small plain records: what the request path sets (ids, times as epoch ms, attributes,
// status), with OpenTelemetry's ReadableSpan fields as getters for its OTLP and console exporters.
// Ids and traceparent parsing are core/trace-context.ts's; sampling is parent-based over a ratio,
// as Dapr configures it.

import type { SpanKindName, SpanParent, TraceSpan } from "./tracing.ts";
import { parseTraceparent, randomHex } from "../core/trace-context.ts";

/** OpenTelemetry's numbers for span kinds and status codes (api.SpanKind, api.SpanStatusCode). */
export const KIND: Record<SpanKindName, number> = { internal: 0, server: 1, client: 2 };
export const STATUS_ERROR = 2;

type HrTime = [number, number];
export type Attributes = Record<string, string | number | boolean>;

/** Epoch ms (fractional) as OpenTelemetry's [seconds, nanoseconds]. */
export function hrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** Wall-clock ms with sub-millisecond precision (the origin read once: it is fixed for the process). */
const ORIGIN_MS = performance.timeOrigin;
const nowMs = () => ORIGIN_MS + performance.now();

export interface SpanSink {
  push(span: SpanRecord): void;
  /** OpenTelemetry's Resource and scope for the exporters that read them (OTLP, console). */
  readonly resource: unknown;
  readonly scope: { name: string };
}

const NO_EVENTS: never[] = [];

/** One span: what the request path sets, and (as getters) the fields OpenTelemetry's exporters read once it ended. */
export class SpanRecord implements TraceSpan {
  readonly spanId: string;
  readonly kind: number;
  attributes: Attributes = {};
  statusCode = 0;
  statusMessage: string | undefined = undefined;
  endMs = 0;
  ended = false;
  private tp: string | null = null;
  /** `attributes` is still the initial empty object (setAll may adopt the caller's instead). */
  private noAttributes = true;

  constructor(
    readonly name: string,
    kind: SpanKindName,
    readonly traceId: string,
    readonly parentId: string | null,
    readonly sampled: boolean,
    readonly tracestate: string | null,
    private readonly sink: SpanSink,
    readonly startMs: number = nowMs(),
  ) {
    this.spanId = randomHex(16);
    this.kind = KIND[kind];
  }

  get traceparent(): string {
    return (this.tp ??= `00-${this.traceId}-${this.spanId}-0${this.sampled ? 1 : 0}`);
  }

  set(key: string, value: string | number | boolean): void {
    if (!this.sampled) return;
    this.attributes[key] = value;
    this.noAttributes = false;
  }
  setAll(attributes: Attributes): void {
    if (!this.sampled) return;
    // One object literal of the caller's (one shape per call site) instead of a property added at a time.
    if (this.noAttributes) this.attributes = attributes;
    else Object.assign(this.attributes, attributes);
    this.noAttributes = false;
  }
  fail(message: string): void {
    if (!this.sampled) return;
    this.statusCode = STATUS_ERROR;
    this.statusMessage = message;
  }
  end(endMs = nowMs()): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.sampled) return;
    this.endMs = endMs;
    this.sink.push(this);
  }

  // ReadableSpan, for OpenTelemetry's exporters.
  spanContext() {
    const traceState = this.tracestate;
    return { traceId: this.traceId, spanId: this.spanId, traceFlags: this.sampled ? 1 : 0, ...(traceState ? { traceState: { serialize: () => traceState } } : {}) };
  }
  get parentSpanContext() {
    return this.parentId ? { traceId: this.traceId, spanId: this.parentId, traceFlags: 1, isRemote: true } : undefined;
  }
  get startTime(): HrTime {
    return hrTime(this.startMs);
  }
  get endTime(): HrTime {
    return hrTime(this.endMs);
  }
  get duration(): HrTime {
    return hrTime(Math.max(0, this.endMs - this.startMs));
  }
  get status(): { code: number; message?: string } {
    return this.statusMessage === undefined ? { code: this.statusCode } : { code: this.statusCode, message: this.statusMessage };
  }
  get resource() {
    return this.sink.resource;
  }
  get instrumentationScope() {
    return this.sink.scope;
  }
  get events() {
    return NO_EVENTS;
  }
  get links() {
    return NO_EVENTS;
  }
  get droppedAttributesCount() {
    return 0;
  }
  get droppedEventsCount() {
    return 0;
  }
  get droppedLinksCount() {
    return 0;
  }
}

/**
 * A span the sampler left out: it carries the trace context on and records nothing. A child of an
 * unsampled parent sends the parent's traceparent on unchanged (W3C lets a participant that does
 * not record keep the parent id), so Dapr's default rate costs a call no ids and no record.
 */
export class UnrecordedSpan implements TraceSpan {
  readonly sampled = false;
  constructor(readonly traceparent: string) {}
  set(): void {}
  setAll(): void {}
  fail(): void {}
  end(): void {}
}

/**
 * Starts spans: a child of a valid traceparent (following its sampled flag) or a new root sampled
 * at `rate`; what is not sampled is an UnrecordedSpan. A parent that is one of these records
 * gives its ids directly, and a parsed traceparent is not parsed again.
 */
export function spanStarter(rate: number, sink: SpanSink, random: () => number = Math.random) {
  return (name: string, kind: SpanKindName, parent: SpanParent, tracestate?: string | null, startMs?: number): SpanRecord | UnrecordedSpan => {
    if (parent instanceof SpanRecord) return new SpanRecord(name, kind, parent.traceId, parent.spanId, true, tracestate ?? null, sink, startMs);
    if (parent instanceof UnrecordedSpan) return parent;
    const m = parent === null ? null : typeof parent === "string" ? parseTraceparent(parent) : Array.isArray(parent) ? parent : parseTraceparent(parent.traceparent);
    if (m) {
      if ((parseInt(m[4]!, 16) & 1) === 0) return new UnrecordedSpan(m[0]);
      return new SpanRecord(name, kind, m[2]!, m[3]!, true, tracestate ?? null, sink, startMs);
    }
    if (rate > 0 && random() < rate) return new SpanRecord(name, kind, randomHex(32), null, true, null, sink, startMs);
    return new UnrecordedSpan(`00-${randomHex(32)}-${randomHex(16)}-00`);
  };
}
