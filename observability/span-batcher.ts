// The export queues for span records: one bounded queue per exporter (a full queue drops and
// counts, never blocks a call, and a slow collector holds back only its own exporter); a small
// batch goes out as soon as it is there, the rest every second; one export at a time per
// exporter, carrying what piled up while the last one was out.

import type { SpanRecord, SpanSink } from "./span-records.ts";

/** An exporter as a queue drives it (OpenTelemetry's SpanExporter shape, plus what it keeps per span). */
export interface SpanExport<T = unknown> {
  /**
   * What the queue keeps for an ended span: the record itself, or its encoding. Encoding early
   * lets the record die young; a queue of records the GC must trace cost a sidecar more than the
   * export itself (docs/decisions.md).
   */
  prepare(span: SpanRecord): T;
  export(items: readonly T[], done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
  /** What one export may take, retries included, where the exporter bounds it. */
  readonly timeoutMs?: number;
}

export interface BatcherOptions {
  readonly maxQueue: number;
  readonly delayMs: number;
  /**
   * Spans that send a batch without waiting for the timer. Small bodies keep a sidecar's memory
   * down (docs/decisions.md); a slow collector gets what queued meanwhile, in bigger batches.
   */
  readonly flushAt: number;
  /** Spans in one export at most: what waited while the last export was out goes in the next. */
  readonly maxBatch: number;
  /** Told how many spans were dropped because a queue was full. */
  readonly onDropped: (n: number) => void;
}

/**
 * An export not answered in this long no longer holds the next one back: the exporter's own
 * timeout and a margin, or 30 s where it has none. The exporters time out themselves; this is
 * the net under one that does not.
 */
const stallMs = (e: SpanExport<unknown>) => Math.max(30_000, (e.timeoutMs ?? 0) + 5_000);

/** One exporter's queue. */
class ExportQueue<T> {
  private queue: T[] = [];
  private busySince = 0;
  private out = false;
  private soon = false;
  private readonly stallMs: number;

  constructor(
    readonly exporter: SpanExport<T>,
    private readonly o: BatcherOptions,
  ) {
    this.stallMs = stallMs(exporter);
  }

  add(span: SpanRecord): void {
    if (this.queue.length >= this.o.maxQueue) return this.o.onDropped(1);
    this.queue.push(this.exporter.prepare(span));
    // As OpenTelemetry's BatchSpanProcessor: a batch does not wait for the timer (at 1,000 calls
    // a second the timer alone would export 512 spans a second and drop the rest).
    if (this.queue.length >= this.o.flushAt) this.flushSoon();
  }

  get size(): number {
    return this.queue.length;
  }

  private flushSoon(): void {
    if (this.soon) return;
    this.soon = true;
    setImmediate(() => {
      this.soon = false;
      void this.flush();
    });
  }

  /** Sends up to one batch, unless the last one is still out; drains what piled up meanwhile. */
  flush(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    if (this.out && performance.now() - this.busySince < this.stallMs) return Promise.resolve();
    const batch = this.queue.length <= this.o.maxBatch ? this.queue : this.queue.slice(0, this.o.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.o.maxBatch);
    this.busySince = performance.now();
    this.out = true;
    return new Promise<void>((resolve) =>
      this.exporter.export(batch, () => {
        this.out = false;
        if (this.queue.length >= this.o.flushAt) this.flushSoon();
        resolve();
      }),
    );
  }

  /** Lets the next flush go out even if the last export never answered (shutdown). */
  release(): void {
    this.out = false;
  }
}

/**
 * Where ended spans go: collected during a turn of the event loop, handed to every exporter's
 * queue right after it (never on the request path itself), flushed every `delayMs`.
 */
export class SpanBatcher implements SpanSink {
  readonly scope = { name: "meshlet" };
  private readonly queues: ExportQueue<unknown>[];
  private readonly timer: ReturnType<typeof setInterval>;
  private ended: SpanRecord[] = [];

  constructor(
    exporters: readonly SpanExport[],
    readonly resource: unknown,
    o: BatcherOptions,
  ) {
    this.queues = exporters.map((e) => new ExportQueue(e, o));
    this.timer = setInterval(() => {
      for (const q of this.queues) void q.flush();
    }, o.delayMs);
    this.timer.unref?.();
  }

  push(span: SpanRecord): void {
    if (this.ended.push(span) === 1) setImmediate(this.hand);
  }

  private readonly hand = (): void => {
    const spans = this.ended;
    this.ended = [];
    for (const q of this.queues) for (const s of spans) q.add(s);
  };

  /** Sends what is queued (bounded wait), then shuts the exporters down. */
  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.hand();
    const deadline = performance.now() + 5_000;
    for (const q of this.queues) q.release();
    while (this.queues.some((q) => q.size > 0) && performance.now() < deadline) {
      await Promise.race([Promise.all(this.queues.map((q) => q.flush())), new Promise((r) => setTimeout(r, 5_000))]);
    }
    await Promise.all(this.queues.map((q) => q.exporter.shutdown().catch(() => {})));
  }
}
