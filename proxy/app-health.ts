// Whether the local app can take calls. With --enable-app-health-check it is probed (HTTP GET on
// the check path, or a TCP connect without one) every interval; either way a refused connection
// on the request path counts as a failed probe and is confirmed by quick probes. `threshold`
// failures in a row make it unhealthy (the sidecar leaves discovery); one good probe heals it.

import type { Layer } from "../core/call.ts";
import type { Clock } from "../core/clock.ts";
import { invokeError } from "../core/errors.ts";

export interface AppHealthOptions {
  /** --enable-app-health-check: probe all the time, not only after refused connections. */
  readonly enabled: boolean;
  /** --app-health-check-path; null probes with a TCP connect. */
  readonly path: string | null;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly threshold: number;
}

/** daprd's defaults: /healthz every 5 s, 500 ms to answer, 3 failures in a row. */
export const APP_HEALTH_DEFAULTS: AppHealthOptions = Object.freeze({ enabled: false, path: "/healthz", intervalMs: 5_000, timeoutMs: 500, threshold: 3 });

/**
 * Without explicit checks, an app found down (refused connections) is probed by TCP this often
 * until it listens again: the instance is back in discovery about a second after its app is.
 */
export const RECOVERY_PROBE_MS = 1_000;

/**
 * After a refused connection, probes follow this quickly until the app answers or the threshold
 * is reached: a dead app leaves discovery in about (threshold - 1) x this, not after more traffic.
 */
export const CONFIRM_PROBE_MS = 100;

/** A probe's verdict: null when healthy, else what failed (`status 503`, `ECONNREFUSED`, `no answer in 500 ms`). */
export type Probe = () => Promise<string | null>;

export class AppHealth {
  private healthyNow = true;
  private failures = 0;
  private lastFailure = "";
  private lastRefusedAt = -Infinity;
  private timer: unknown = null;
  private confirmTimer: unknown = null;
  private probing = false;
  private stopped = false;
  /** Set once the app first listened: before that the sidecar is not ready anyway. */
  private started = false;

  constructor(
    readonly options: AppHealthOptions,
    private readonly probe: Probe,
    private readonly clock: Clock,
    /** Told each change: healthy, or not and why. */
    private readonly onChange: (healthy: boolean, why: string) => void,
  ) {}

  get healthy(): boolean {
    return this.healthyNow;
  }

  /** Why the app is unhealthy (null while healthy). */
  get why(): string | null {
    return this.healthyNow ? null : this.lastFailure;
  }

  /** Counts from now on, probing periodically when checks are enabled (the sidecar calls it once the app first listens). */
  start(): void {
    this.started = true;
    if (this.options.enabled) this.schedule(this.options.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    if (this.confirmTimer !== null) this.clock.clearTimeout(this.confirmTimer);
    this.timer = this.confirmTimer = null;
  }

  /**
   * The request path saw the app refuse a connection: a failed probe. Refusals more than an
   * interval apart are not "in a row" (the request path does not report its successes).
   */
  refused(detail: string): void {
    if (!this.started) return;
    const now = this.clock.now();
    if (now - this.lastRefusedAt > this.options.intervalMs) this.failures = 0;
    this.lastRefusedAt = now;
    this.failed(detail, true);
  }

  /** One failure; `confirm` (a refusal, or a probe confirming one) asks for a quick probe to follow. */
  private failed(why: string, confirm: boolean): void {
    this.failures++;
    this.lastFailure = why;
    if (!this.healthyNow) return;
    if (this.failures < this.options.threshold) {
      if (confirm) this.confirm();
      return;
    }
    this.healthyNow = false;
    this.onChange(false, `app health: ${this.failures} failures in a row, last: ${why}`);
    // Without periodic checks, probe until the app is back.
    if (!this.options.enabled) this.schedule(RECOVERY_PROBE_MS);
  }

  /** A probe soon, to confirm or clear a failure while the app still counts as healthy. */
  private confirm(): void {
    if (this.stopped || this.confirmTimer !== null) return;
    this.confirmTimer = this.clock.setTimeout(() => {
      this.confirmTimer = null;
      void this.runProbe(true);
    }, CONFIRM_PROBE_MS);
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.runProbe();
    }, ms);
  }

  /** One probe now; reschedules while checks are enabled, the app is down, or a failure awaits confirmation. */
  async runProbe(confirming = false): Promise<void> {
    if (this.probing || this.stopped) return;
    this.probing = true;
    let verdict: string | null;
    try {
      verdict = await this.probe();
    } catch (e) {
      verdict = (e as Error).message ?? String(e);
    } finally {
      this.probing = false;
    }
    if (this.stopped) return;
    if (verdict === null) {
      this.failures = 0;
      if (!this.healthyNow) {
        this.healthyNow = true;
        this.onChange(true, "app health probe succeeded");
      }
    } else {
      this.failed(verdict, confirming);
    }
    if (this.options.enabled) this.schedule(this.options.intervalMs);
    else if (!this.healthyNow) this.schedule(RECOVERY_PROBE_MS);
  }
}

/**
 * The request path's side: a call to an app known to be down is answered at once, marked as never
 * delivered (callers move it to another instance). A synchronous check, no promise of its own.
 */
export function appHealthLayer(h: AppHealth): Layer {
  return (next) => (req, ctx) => (h.healthy ? next(req, ctx) : Promise.reject(invokeError("app_unhealthy", ctx.appId, `the app is not healthy (${h.why})`, { neverSent: true })));
}
