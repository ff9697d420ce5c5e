// The export queue for span records: bounded (a full queue drops and counts, never blocks a
// call), flushed every second in batches to each exporter, one export per exporter at a time.
// Export runs off the request path; a slow or failing collector costs nothing but lost spans.

import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { SpanRecord, SpanSink } from "./span-records.ts";

export interface BatcherOptions {
  readonly maxQueue: number;
  readonly delayMs: number;
  readonly maxBatch: number;
  /** Told how many spans were dropped because the queue was full. */
  readonly onDropped: (n: number) => void;
}

/** An export not answered in this long no longer holds the next one back (the exporters time out themselves). */
const STALL_MS = 30_000;

export class SpanBatcher implements SpanSink {
  readonly scope = { name: "meshlet" };
  private queue: SpanRecord[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private busySince = 0;
  private pending = 0;

  constructor(
    private readonly exporters: readonly SpanExporter[],
    readonly resource: unknown,
    private readonly o: BatcherOptions,
  ) {
    this.timer = setInterval(() => this.flush(), o.delayMs);
    this.timer.unref?.();
  }

  push(span: SpanRecord): void {
    if (this.queue.length >= this.o.maxQueue) return this.o.onDropped(1);
    this.queue.push(span);
  }

  /** Sends up to one batch to every exporter, unless the last one is still out. */
  private flush(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    if (this.pending > 0 && performance.now() - this.busySince < STALL_MS) return Promise.resolve();
    const batch = this.queue.length <= this.o.maxBatch ? this.queue : this.queue.slice(0, this.o.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.o.maxBatch);
    this.busySince = performance.now();
    // The exporters read ReadableSpan's fields; span records carry exactly those.
    const spans = batch as unknown as Parameters<SpanExporter["export"]>[0];
    return Promise.all(
      this.exporters.map(
        (e) =>
          new Promise<void>((resolve) => {
            this.pending++;
            e.export(spans, () => {
              this.pending--;
              resolve();
            });
          }),
      ),
    ).then(() => {});
  }

  /** Sends what is queued (bounded wait), then shuts the exporters down. */
  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.pending = 0;
    const deadline = performance.now() + 5_000;
    while (this.queue.length && performance.now() < deadline) await Promise.race([this.flush(), new Promise((r) => setTimeout(r, 5_000))]);
    await Promise.all(this.exporters.map((e) => e.shutdown().catch(() => {})));
  }
}
