// Types for cli/pacer.mjs.
export interface Pacer {
  /** How late each request was released (ms). */
  readonly lags: number[];
  /** Pass as autocannon's `setupClient`. */
  setupClient(client: unknown): void;
  start(): void;
  stop(): void;
}
export function evenPacer(rate: number): Pacer;
