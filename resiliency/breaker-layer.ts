// Circuit-breaker Layer: one breaker per `<app-id>:<method>` (Dapr's key), kept in an LRU of
// circuitBreakerCacheSize. An open breaker fails fast with 503 `breaker_open`; every outcome
// (app failure status, transport error) feeds the state machine. Breakers outlive reloads.

import type { Layer } from "../core/call.ts";
import { invokeError, SidecarError } from "../core/errors.ts";
import { CircuitBreaker } from "./breaker.ts";
import type { BreakerPolicy } from "./policy/types.ts";
import type { ResilienceEvents } from "./events.ts";
import { isFailureStatus } from "./classify.ts";
import { BoundedMap } from "../core/bounded-map.ts";

/** Holds breakers across policy reloads: same target, key and policy -> same breaker object. */
export class BreakerRegistry {
  /** Targets with breakers, bounded like every per-target structure; idle ones are swept. */
  private readonly byTarget: BoundedMap<string, Map<string, CircuitBreaker>>;
  constructor(private readonly now: () => number) {
    this.byTarget = new BoundedMap(1024, 10 * 60_000, now);
  }

  /** Forgets targets whose breakers nobody consulted lately (a breaker that long idle is closed or due to probe). */
  sweep(): void {
    this.byTarget.sweep();
  }

  get(target: string, key: string, policy: BreakerPolicy, cacheSize: number, events: ResilienceEvents): CircuitBreaker {
    let lru = this.byTarget.get(target);
    if (!lru) this.byTarget.set(target, (lru = new Map()));
    const id = `${key}\u0000${fingerprint(policy)}`;
    let b = lru.get(id);
    if (b) {
      lru.delete(id);
      lru.set(id, b);
      return b;
    }
    b = new CircuitBreaker(policy, this.now, (from, to) => events.breaker(target, policy.name, key, from, to));
    lru.set(id, b);
    if (lru.size > cacheSize) lru.delete(lru.keys().next().value!);
    return b;
  }
}

function fingerprint(p: BreakerPolicy): string {
  return `${p.name}|${p.maxRequests}|${p.interval}|${p.timeout}|${p.trip}`;
}

export function breakerLayer(target: string, policy: BreakerPolicy, cacheSize: number, registry: BreakerRegistry, events: ResilienceEvents): Layer {
  return (next) => async (req, ctx) => {
    const key = `${target}:${req.path.slice(1)}`;
    const breaker = registry.get(target, key, policy, cacheSize, events);
    const admission = breaker.admit();
    // For the attempt's span: what the breaker said as it let this attempt through.
    if (ctx.traceparent) ctx.breakerState = breaker.current();
    if (!admission.ok) {
      throw admission.why === "open"
        ? invokeError("breaker_open", target, "circuit breaker is open")
        : invokeError("breaker_half_open_full", target, "too many requests");
    }
    try {
      const res = await next(req, ctx);
      breaker.record(admission.generation, !isFailureStatus(res.status));
      return res;
    } catch (e) {
      if (!(e instanceof SidecarError && e.reason === "client_closed")) breaker.record(admission.generation, false);
      throw e;
    }
  };
}
