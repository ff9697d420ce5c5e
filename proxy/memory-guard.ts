// Load shedding before an out-of-memory kill: the process's resident memory is sampled on the
// injected clock; over the limit, garbage is collected first, and if that is not enough new calls
// are refused at once (503 memory_pressure) until it falls back below the resume mark, collecting
// again each second meanwhile. The request path reads one boolean.

import type { Clock } from "../core/clock.ts";
import { invokeError, SidecarError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { MemoryLimit } from "../config/memory-limit.ts";

export interface MemoryGuardOptions {
  /** Calls are refused while the sampled RSS is at or above this (bytes). */
  readonly limitBytes: number;
  readonly clock: Clock;
  /** The process's resident set size in bytes (process.memoryUsage.rss). */
  readonly rss: () => number;
  /**
   * A full, synchronous garbage collection, asked when memory is over the mark (at most every
   * COLLECT_EVERY_MS); absent where the runtime has none to offer. Under Bun a burst's garbage
   * otherwise stays resident for a while: 1,500 calls of 60 KiB left a sidecar at 178 MB for
   * 10-15 s after they ended, until Bun's own collector ran; one collection took it to 76 MB at once.
   */
  readonly collect?: () => void;
  /** Told when shedding starts or stops, and once an episode has lasted STUCK_MS. */
  readonly onChange?: (e: MemoryGuardEvent) => void;
}

export type MemoryGuardEvent =
  | { readonly kind: "shedding"; readonly rssBytes: number }
  | { readonly kind: "resumed"; readonly rssBytes: number; readonly refused: number; readonly ms: number }
  | { readonly kind: "stuck"; readonly rssBytes: number; readonly refused: number; readonly ms: number };

/** How often RSS is read: a flood of 4 MiB bodies on 100 connections adds ~400 MB a second at worst, ~100 MB between samples. */
export const SAMPLE_MS = 250;
/** Calls are admitted again below this share of the limit, so the guard does not flap at the line. */
export const RESUME_SHARE = 0.9;
/** An episode this long says so once: the memory is likely held by something other than calls. */
export const STUCK_MS = 10_000;
/** Full collections while over the mark are this far apart at least (each pauses the event loop). */
export const COLLECT_EVERY_MS = 1_000;

const mib = (bytes: number) => `${Math.round(bytes / 1024 ** 2)} MiB`;

export class MemoryGuard {
  /** Read by the listeners' memory-guard steps on every call: refuse while true. */
  shedding = false;
  /** Calls refused in the current episode (refuse() counts them), and in all. */
  refused = 0;
  refusedTotal = 0;
  /** Full collections the guard asked for. */
  collections = 0;
  private lastCollect = -Infinity;
  private since = 0;
  private warned = false;
  private timer: unknown = null;
  readonly resumeBytes: number;

  constructor(private readonly o: MemoryGuardOptions) {
    this.resumeBytes = Math.floor(o.limitBytes * RESUME_SHARE);
  }

  get limitBytes(): number {
    return this.o.limitBytes;
  }

  /** Samples now and then every SAMPLE_MS until stop(). */
  start(): void {
    const tick = () => {
      this.sample();
      this.timer = this.o.clock.setTimeout(tick, SAMPLE_MS);
      (this.timer as { unref?: () => void }).unref?.();
    };
    tick();
  }

  stop(): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** One reading: at the limit, collects and sheds if that was not enough; below the resume mark, stops shedding. */
  sample(): void {
    let rss = this.o.rss();
    const now = this.o.clock.now();
    const mark = this.shedding ? this.resumeBytes : this.o.limitBytes;
    // Garbage the calls left may be all that holds the memory: collect it before refusing anything.
    if (rss >= mark && this.o.collect && now - this.lastCollect >= COLLECT_EVERY_MS) {
      this.lastCollect = now;
      this.collections++;
      this.o.collect();
      rss = this.o.rss();
    }
    if (!this.shedding) {
      if (rss < this.o.limitBytes) return;
      this.shedding = true;
      this.since = now;
      this.refused = 0;
      this.warned = false;
      this.o.onChange?.({ kind: "shedding", rssBytes: rss });
      return;
    }
    if (rss < this.resumeBytes) {
      this.shedding = false;
      this.o.onChange?.({ kind: "resumed", rssBytes: rss, refused: this.refused, ms: now - this.since });
      return;
    }
    if (!this.warned && now - this.since >= STUCK_MS) {
      this.warned = true;
      this.o.onChange?.({ kind: "stuck", rssBytes: rss, refused: this.refused, ms: now - this.since });
    }
  }

  /**
   * Counts a refused call and gives the error it gets: an invocation's (`appId` set) in Dapr's
   * invoke wording, `neverSent` for a peer's call, so its caller tries another instance.
   */
  refuse(appId: string | null, neverSent: boolean): SidecarError {
    this.refused++;
    this.refusedTotal++;
    const why = `this sidecar is over its memory limit (${mib(this.limitBytes)}) and refuses new calls until it is back under ${mib(this.resumeBytes)}`;
    return appId === null ? new SidecarError("memory_pressure", why) : invokeError("memory_pressure", appId, why, { neverSent });
  }
}

/** The sidecar's guard for `limit`, sampling this process and saying in the log when it sheds, resumes or stays stuck. */
export function sidecarMemoryGuard(limit: MemoryLimit, clock: Clock, log: Logger, collect?: () => void): MemoryGuard {
  const g: MemoryGuard = new MemoryGuard({
    limitBytes: limit.bytes,
    clock,
    rss: () => process.memoryUsage.rss(),
    collect,
    onChange: (e) => {
      const at = { rss: mib(e.rssBytes), limit: mib(limit.bytes) };
      if (e.kind === "shedding") log.warn("memory over its limit: new calls are refused (503 memory_pressure) until it falls back", { ...at, resume_below: mib(g.resumeBytes) });
      else if (e.kind === "resumed") log.info("memory back under its limit: calls are admitted again", { ...at, refused: e.refused, after_ms: Math.round(e.ms) });
      else log.warn(`memory has stayed over its limit for ${STUCK_MS / 1000} s while calls were refused and garbage was collected: something other than calls holds it; if this is the sidecar's usual size, raise --max-memory`, { ...at, refused: e.refused });
    },
  });
  return g;
}

/** What both listeners' memory-guard steps do, for `explain`. */
export const describeMemoryGuard =
  "--max-memory (or 90 % of the container's memory limit): over it, a full garbage collection; still over, new calls get 503 memory_pressure until RSS is back under 90 % of it";
