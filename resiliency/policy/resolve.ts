// Which policies apply to a call to one app-id, with Dapr's precedence and where each value
// came from: a named target uses only its named policies; otherwise DefaultApp*Policy, then
// Default*Policy; Dapr's built-in service retries only when the app has no target entry.

import { DEFAULT_OUTLIER, type BreakerPolicy, type HedgePolicy, type LoadBalancerPolicy, type OutlierPolicy, type PolicySet, type RetryPolicy, type TimeoutPolicy } from "./types.ts";

export interface Sourced<T> {
  readonly value: T;
  /** Human-readable origin: `target apps.X (file:line)`, `DefaultAppRetryPolicy (file:line)`, `built-in`. */
  readonly source: string;
}

export interface EffectivePolicy {
  readonly appId: string;
  readonly deadline: Sourced<number> | null;
  readonly retry: Sourced<RetryPolicy> | null;
  readonly breaker: Sourced<BreakerPolicy> | null;
  readonly breakerCacheSize: number;
  readonly timeout: Sourced<TimeoutPolicy>;
  /** meshlet extension: per-endpoint outlier ejection (built-in defaults unless the target sets it). */
  readonly outlier: Sourced<OutlierPolicy>;
  /** meshlet extension: hedged reads, only where the target sets them. */
  readonly hedge: Sourced<HedgePolicy> | null;
  /** meshlet extension: consistent hashing on a header, only where the target sets it. */
  readonly loadBalancer: Sourced<LoadBalancerPolicy> | null;
}

const BUILT_IN_OUTLIER: Sourced<OutlierPolicy> = { value: DEFAULT_OUTLIER, source: "built-in" };

/** Dapr's DaprBuiltInServiceRetries: 3 x 1 s, only for calls that never reached a server. */
export const BUILT_IN_SERVICE_RETRIES: RetryPolicy = Object.freeze({
  name: "DaprBuiltInServiceRetries",
  policy: "constant",
  duration: 1000,
  initialInterval: 500,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxInterval: 60_000,
  maxElapsedTime: 0,
  maxRetries: 3,
  httpStatusCodes: [],
  gRPCStatusCodes: null,
  retryNonIdempotent: false,
  onlyNeverSent: true,
});

function byDefault<T>(map: ReadonlyMap<string, { value: T; at: string }>, kind: string): Sourced<T> | null {
  for (const name of [`DefaultApp${kind}Policy`, `Default${kind}Policy`]) {
    const p = map.get(name);
    if (p) return { value: p.value, source: `${name} (${p.at})` };
  }
  return null;
}

export const FALLBACK_TIMEOUT_NAME = "--app-timeout";

/** `fallbackTimeoutMs`: the sidecar's --app-timeout, used when no policy names a timeout. */
export function resolvePolicy(set: PolicySet, appId: string, fallbackTimeoutMs: number): EffectivePolicy {
  const fallbackTimeout: Sourced<TimeoutPolicy> = {
    value: { name: FALLBACK_TIMEOUT_NAME, ms: fallbackTimeoutMs },
    source: "built-in (--app-timeout)",
  };
  const target = set.apps.get(appId);
  if (target) {
    const src = (kind: string, name: string, at: string) => `target apps.${appId}.${kind} -> ${name} (${at})`;
    const t = target.timeout ? set.timeouts.get(target.timeout) : undefined;
    const r = target.retry ? set.retries.get(target.retry) : undefined;
    const b = target.circuitBreaker ? set.breakers.get(target.circuitBreaker) : undefined;
    return {
      appId,
      deadline: target.deadline !== undefined ? { value: target.deadline, source: `target apps.${appId}.deadline (${target.at})` } : null,
      timeout: t ? { value: t.value, source: src("timeout", t.value.name, t.at) } : fallbackTimeout,
      retry: r ? { value: r.value, source: src("retry", r.value.name, r.at) } : null,
      breaker: b ? { value: b.value, source: src("circuitBreaker", b.value.name, b.at) } : null,
      breakerCacheSize: target.circuitBreakerCacheSize,
      outlier: target.outlierDetection ? { value: target.outlierDetection, source: `target apps.${appId}.outlierDetection (${target.at})` } : BUILT_IN_OUTLIER,
      hedge: target.hedge ? { value: target.hedge, source: `target apps.${appId}.hedge (${target.at})` } : null,
      loadBalancer: target.loadBalancer ? { value: target.loadBalancer, source: `target apps.${appId}.loadBalancer (${target.at})` } : null,
    };
  }
  const builtIn = set.retries.get(BUILT_IN_SERVICE_RETRIES.name);
  const defaultRetry = byDefault(set.retries, "Retry");
  // Dapr stacks its built-in service retries with Default* policies; meshlet folds them into one
  // policy: the default policy if any (it also retries never-sent failures), else the built-in.
  const retry: Sourced<RetryPolicy> =
    defaultRetry ??
    (builtIn
      ? { value: { ...builtIn.value, maxRetries: Math.max(3, builtIn.value.maxRetries), onlyNeverSent: true }, source: `DaprBuiltInServiceRetries (overridden at ${builtIn.at})` }
      : { value: BUILT_IN_SERVICE_RETRIES, source: "built-in DaprBuiltInServiceRetries" });
  return {
    appId,
    deadline: null,
    timeout: byDefault(set.timeouts, "Timeout") ?? fallbackTimeout,
    retry,
    breaker: byDefault(set.breakers, "CircuitBreaker"),
    breakerCacheSize: 100,
    outlier: BUILT_IN_OUTLIER,
    hedge: null,
    loadBalancer: null,
  };
}
