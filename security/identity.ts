// A sidecar's workload identity over time: the certificate in force, renewed at ~70 % of its
// life from its source (local issuer, sentry, watched files), re-fetched at once when the source's
// files change (a new bundle, a new issuer), and kept in force while renewal fails until it expires.

import type { Clock } from "../core/clock.ts";
import { formatTimeLeft } from "../config/units.ts";
import type { Logger } from "../core/log.ts";
import type { TlsCredentials, TlsMaterial } from "../transport/credentials.ts";
import { CertError } from "./ca.ts";
import type { Issued } from "./material.ts";
import { formatSpiffe, type SpiffeId } from "./spiffe.ts";

export interface IdentitySource {
  /** Where certificates come from, for logs and doctor ("local issuer in ~/.meshlet/certs"). */
  readonly describe: string;
  /** Fresh material for `id`: a new key and certificate, or the files as they are now. */
  obtain(id: SpiffeId, o: { ttlMs: number; skewMs: number; now: number }): Promise<Issued>;
  /** A cheap stamp of the files the source reads; a change fetches again at once. */
  stamp?(): string;
  /** False for sources whose certificates are renewed by someone else (files): only changes are followed. */
  readonly renews: boolean;
}

export interface IdentityOptions {
  readonly id: SpiffeId;
  readonly source: IdentitySource;
  readonly ttlMs: number;
  readonly skewMs: number;
  /** Wall-clock time (epoch ms) and timers. */
  readonly clock: Clock;
  readonly log: Logger;
  /** Fraction of a certificate's life after which it is renewed. */
  readonly renewAt?: number;
  /** How often the source's files are looked at. */
  readonly pollMs?: number;
}

const RETRY_MIN_MS = 500;
/** Longest single timer: runtimes fire longer ones at once (2^31 - 1 ms overflows). */
const MAX_TIMER_MS = 24 * 3_600_000;
const RETRY_MAX_MS = 30_000;

export class WorkloadIdentity implements TlsCredentials {
  private issued: Issued | null = null;
  private material: TlsMaterial | null = null;
  private issuedAt = 0;
  private generation = 0;
  private timer: unknown = null;
  private poller: unknown = null;
  private lastStamp = "";
  private failures = 0;
  private busy = false;
  private stopped = false;
  private readonly listeners = new Set<(m: TlsMaterial) => void>();
  /** Renewals that worked, for tests. */
  renewals = 0;
  /** Told the outcome of every renewal (metrics). */
  onRenewal: (ok: boolean) => void = () => {};
  /** Told when the certificate in force expired unrenewed, and when a new one ended that. */
  onExpired: (why: string) => void = () => {};
  onRecovered: () => void = () => {};
  private expiryTimer: unknown = null;
  private expired = false;

  constructor(private readonly o: IdentityOptions) {}

  get spiffeId(): string {
    return formatSpiffe(this.o.id);
  }

  get source(): string {
    return this.o.source.describe;
  }

  /** The material in force, with its dates (doctor, metrics). */
  status(): Issued {
    if (!this.issued) throw new Error("the workload identity has not started");
    return this.issued;
  }

  current(): TlsMaterial {
    if (!this.material) throw new Error("the workload identity has not started");
    return this.material;
  }

  onChange(fn: (m: TlsMaterial) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Gets the first certificate. A CertError (bad files, a refused request) fails at once; other
   * failures (a sentry that is down) are retried with backoff, logged with the source's address.
   */
  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.lastStamp = this.o.source.stamp?.() ?? "";
        this.install(await this.obtain());
        break;
      } catch (e) {
        if (e instanceof CertError || this.stopped) throw e;
        const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
        this.o.log.error(`cannot get a workload certificate from the ${this.o.source.describe}; retrying`, { error: (e as Error).message, retry_ms: wait });
        await new Promise<void>((r) => this.o.clock.setTimeout(r, wait));
        if (this.stopped) throw e;
      }
    }
    this.scheduleRenewal();
    this.startPolling();
    const s = this.issued!;
    this.o.log.debug("workload identity", { id: this.spiffeId, source: this.o.source.describe, expires: new Date(s.notAfter).toISOString() });
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.timer, this.poller, this.expiryTimer]) if (t !== null) this.o.clock.clearTimeout(t);
    this.timer = this.poller = this.expiryTimer = null;
  }

  /** Renews now (also what the timer and a changed file call); false when it failed. */
  async renew(why: string): Promise<boolean> {
    if (this.busy || this.stopped) return false;
    this.busy = true;
    try {
      const next = await this.obtain();
      this.install(next);
      this.failures = 0;
      this.renewals++;
      this.onRenewal(true);
      this.o.log.info("workload certificate renewed", { id: this.spiffeId, why, expires: new Date(next.notAfter).toISOString() });
      return true;
    } catch (e) {
      this.failures++;
      this.onRenewal(false);
      const left = (this.issued?.notAfter ?? 0) - this.o.clock.now();
      this.o.log.error("workload certificate renewal failed; the current one stays in force", {
        source: this.o.source.describe,
        error: (e as Error).message,
        expires_in: left > 0 ? formatTimeLeft(left) : "expired",
      });
      return false;
    } finally {
      this.busy = false;
      if (!this.stopped) this.scheduleRenewal();
    }
  }

  private obtain(): Promise<Issued> {
    return this.o.source.obtain(this.o.id, { ttlMs: this.o.ttlMs, skewMs: this.o.skewMs, now: this.o.clock.now() });
  }

  private install(next: Issued): void {
    this.issued = next;
    this.issuedAt = this.o.clock.now();
    this.material = { chainPem: next.chainPem, keyPem: next.keyPem, trustPem: next.trustPem, generation: ++this.generation };
    if (this.generation > 1) for (const fn of this.listeners) fn(this.material);
    if (this.expired) {
      this.expired = false;
      this.onRecovered();
    }
    // Should renewal fail until then, the expiry is announced the moment it happens.
    if (this.expiryTimer !== null) this.o.clock.clearTimeout(this.expiryTimer);
    const arm = () => {
      this.expiryTimer = this.o.clock.setTimeout(() => {
        this.expiryTimer = null;
        if (this.stopped || this.issued !== next) return;
        if (this.o.clock.now() < next.notAfter) return arm();
        this.expired = true;
        this.o.log.error("the workload certificate expired and could not be renewed", { id: this.spiffeId, source: this.o.source.describe });
        this.onExpired(`the workload certificate ${this.spiffeId} expired at ${new Date(next.notAfter).toISOString()} and renewal from the ${this.o.source.describe} keeps failing`);
      }, Math.min(MAX_TIMER_MS, Math.max(0, next.notAfter - this.o.clock.now())));
    };
    arm();
  }

  /** At `renewAt` of the life left when issued; after failures, sooner, with backoff, never past expiry. */
  private scheduleRenewal(): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    const s = this.issued;
    if (!s || !this.o.source.renews) return;
    const now = this.o.clock.now();
    let wait: number;
    if (this.failures === 0) {
      wait = this.issuedAt + (this.o.renewAt ?? 0.7) * (s.notAfter - this.issuedAt) - now;
    } else {
      wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.failures, 16));
      const left = s.notAfter - now;
      if (left > 0) wait = Math.min(wait, Math.max(RETRY_MIN_MS, left / 4));
    }
    const due = now + Math.max(0, wait);
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      // A long wait is taken in steps of at most a day.
      if (this.o.clock.now() < due) return this.scheduleRenewal();
      void this.renew("scheduled");
    }, Math.min(MAX_TIMER_MS, Math.max(0, wait)));
  }

  private startPolling(): void {
    const stamp = this.o.source.stamp;
    if (!stamp) return;
    const tick = () => {
      this.poller = null;
      if (this.stopped) return;
      const now = stamp.call(this.o.source);
      // While a renewal is in flight the change is left for the next look: it may have read the old files.
      if (now !== this.lastStamp && !this.busy) {
        this.lastStamp = now;
        void this.renew("source files changed");
      }
      this.poller = this.o.clock.setTimeout(tick, this.o.pollMs ?? 1_000);
    };
    this.poller = this.o.clock.setTimeout(tick, this.o.pollMs ?? 1_000);
  }
}
