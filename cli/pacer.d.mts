// Types for cli/pacer.mjs.
export interface Pacer {
  /** How late each request was released (ms). */
  readonly lags: number[];
  /** Pass as autocannon's `setupClient`. */
  setupClient(client: unknown): void;
  start(): void;
  stop(): void;
  /** When pacing began (performance.now()), or 0 before any connection was ready. */
  readonly startedAt: number;
}
export function evenPacer(rate: number): Pacer;
