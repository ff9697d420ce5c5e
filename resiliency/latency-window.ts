// Recent times to headers of one target's reads, for a hedge delay that follows a percentile:
// the last 128 in a ring, the percentile recomputed after every 16 new ones (one sort of 128).

const SIZE = 128;
const RECOMPUTE_EVERY = 16;
/** Fewer samples than this say nothing about a tail: no delay (so no hedge) until then. */
export const MIN_SAMPLES = 20;

export class LatencyWindow {
  private readonly ring = new Float64Array(SIZE);
  private count = 0;
  private sinceSort = 0;
  private value: number | null = null;

  constructor(private readonly percentile: number) {}

  add(ms: number): void {
    this.ring[this.count % SIZE] = ms;
    this.count++;
    this.sinceSort++;
  }

  /** The percentile (nearest rank) of the samples kept, or null while there are too few. */
  quantile(): number | null {
    if (this.count < MIN_SAMPLES) return null;
    if (this.value === null || this.sinceSort >= RECOMPUTE_EVERY) {
      const n = Math.min(this.count, SIZE);
      const sorted = this.ring.slice(0, n).sort();
      this.value = sorted[Math.min(n - 1, Math.max(0, Math.ceil((this.percentile / 100) * n) - 1))]!;
      this.sinceSort = 0;
    }
    return this.value;
  }
}
