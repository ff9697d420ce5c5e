// Resiliency policy as immutable data: what the YAML parser produces after validation and
// defaulting, and what layers are built from. No parsing or behaviour lives here.

/** Dapr's circuit-breaker counters, the variables a trip expression may read. */
export interface BreakerCounts {
  requests: number;
  totalSuccesses: number;
  totalFailures: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

export interface TimeoutPolicy {
  readonly name: string;
  readonly ms: number;
}

export interface RetryPolicy {
  readonly name: string;
  readonly policy: "constant" | "exponential";
  /** Constant interval (ms). */
  readonly duration: number;
  /** Exponential: first interval, growth, jitter (cenkalti/backoff defaults). */
  readonly initialInterval: number;
  readonly multiplier: number;
  readonly randomizationFactor: number;
  readonly maxInterval: number;
  /** Exponential gives up after this much elapsed time (ms); 0 = never. */
  readonly maxElapsedTime: number;
  /** -1 = unlimited (bounded by the budget and the deadline). */
  readonly maxRetries: number;
  /** Inclusive HTTP status ranges that are retried; null = meshlet's default (5xx). */
  readonly httpStatusCodes: readonly (readonly [number, number])[] | null;
  readonly gRPCStatusCodes: readonly (readonly [number, number])[] | null;
  /** meshlet extension: retry POST/PATCH after the app saw them. */
  readonly retryNonIdempotent: boolean;
  /** Only failures that never reached a server (Dapr's DaprBuiltInServiceRetries). */
  readonly onlyNeverSent: boolean;
}

export interface BreakerPolicy {
  readonly name: string;
  readonly maxRequests: number;
  /** Closed-state count reset period (ms); 0 = never. */
  readonly interval: number;
  /** Open -> half-open after this long (ms). */
  readonly timeout: number;
  readonly trip: string;
  readonly tripFn: (c: BreakerCounts) => boolean;
}

/** meshlet extension: per-endpoint outlier ejection (Dapr has no field for it). */
export interface OutlierPolicy {
  /** Failures in a row (5xx answers, refused or timed-out connections) that eject an endpoint. */
  readonly consecutiveFailures: number;
  /** First ejection's length (ms); the n-th lasts n times this. */
  readonly baseEjectionMs: number;
  /** No ejection lasts longer (ms). */
  readonly maxEjectionMs: number;
  /** At most this share of a target's endpoints is ejected at once; 0 turns ejection off. */
  readonly maxEjectionPercent: number;
}

/** Between Linkerd's failure accrual (7 failures, 1-60 s backoff) and Envoy's (5, 30-300 s, 10 %). */
export const DEFAULT_OUTLIER: OutlierPolicy = Object.freeze({ consecutiveFailures: 5, baseEjectionMs: 5_000, maxEjectionMs: 60_000, maxEjectionPercent: 50 });

/**
 * meshlet extension: hedged reads (Envoy's hedge_on_per_try_timeout, by a delay). A GET, HEAD or
 * OPTIONS still waiting for headers after the delay gets a second attempt on another instance;
 * the first good answer wins and the others are cancelled.
 */
export interface HedgePolicy {
  /** A fixed delay (ms), or null when `percentile` sets it. */
  readonly delayMs: number | null;
  /** The delay follows this percentile (50-99.9) of the target's recent times to headers. */
  readonly percentile: number | null;
  /** Hedges in flight at once beside the first attempt (1-3), one more after each delay. */
  readonly maxHedges: number;
}

/**
 * meshlet extension, in Istio's words: `loadBalancer.consistentHash.httpHeaderName` (requests with
 * that header go to the instance its value hashes to, by rendezvous hashing) and
 * `loadBalancer.warmupDurationSecs` (a new instance's share of the rest ramps up over that long).
 */
export interface LoadBalancerPolicy {
  /** Lower-case header name whose value picks the instance, or null. */
  readonly hashHeader: string | null;
  /** Warm-up of an instance that joins (ms); 0 = none. */
  readonly warmupMs: number;
}

export interface AppTarget {
  readonly timeout?: string;
  readonly retry?: string;
  readonly circuitBreaker?: string;
  readonly circuitBreakerCacheSize: number;
  /** meshlet extension: overall deadline across all attempts (ms). */
  readonly deadline?: number;
  /** meshlet extension: outlier ejection for this target's endpoints. */
  readonly outlierDetection?: OutlierPolicy;
  /** meshlet extension: hedged reads for this target. */
  readonly hedge?: HedgePolicy;
  /** meshlet extension: consistent hashing on a header instead of latency-aware balancing. */
  readonly loadBalancer?: LoadBalancerPolicy;
  /** Where it was defined, for explain. */
  readonly at: string;
}

/** `targets.components.<name>.outbound` (or `.inbound`): named policies for a component's calls. */
export interface ComponentTarget {
  readonly timeout?: string;
  readonly retry?: string;
  readonly circuitBreaker?: string;
  readonly at: string;
}

export interface ComponentTargets {
  /** Calls the sidecar makes to the component (state store reads and writes). */
  readonly outbound?: ComponentTarget;
  /** Calls a component makes into the app (pub/sub, bindings): parsed, nothing uses them yet. */
  readonly inbound?: ComponentTarget;
}

export interface Located<T> {
  readonly value: T;
  /** `file:line` of the definition. */
  readonly at: string;
}

/** Every Resiliency resource in scope, merged. Immutable once built. */
export interface PolicySet {
  readonly timeouts: ReadonlyMap<string, Located<TimeoutPolicy>>;
  readonly retries: ReadonlyMap<string, Located<RetryPolicy>>;
  readonly breakers: ReadonlyMap<string, Located<BreakerPolicy>>;
  readonly apps: ReadonlyMap<string, AppTarget>;
  readonly components: ReadonlyMap<string, ComponentTargets>;
  /** Names of the resources that were loaded (file:line name). */
  readonly resources: readonly string[];
}

export const EMPTY_POLICY_SET: PolicySet = Object.freeze({
  timeouts: new Map(),
  retries: new Map(),
  breakers: new Map(),
  apps: new Map(),
  components: new Map(),
  resources: [],
});
