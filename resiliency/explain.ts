// Human-readable account of the effective policy for one call: the words for each resiliency
// step's value in force and where it came from, and whether a POST would be retried. Text only:
// each step in the stack file calls its describe function here; resolve.ts supplies the values.

import type { EffectivePolicy } from "./policy/resolve.ts";
import type { ComponentPolicy } from "./policy/resolve-component.ts";
import type { RetryPolicy } from "./policy/types.ts";
import { DEFAULT_RETRY_STATUSES, mayRepeat } from "./classify.ts";
import { hedgeable } from "./hedge.ts";

/** A duration as Go writes it, without zero parts: 15m (not 900s), 1m30s, 1h, 250ms. */
export function ms(n: number): string {
  if (n < 1000 || n % 1000 !== 0) return n < 1000 ? `${n}ms` : `${n / 1000}s`;
  const h = Math.floor(n / 3_600_000);
  const m = Math.floor((n % 3_600_000) / 60_000);
  const s = (n % 60_000) / 1000;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}
const ranges = (r: readonly (readonly [number, number])[]) => r.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");

function retryText(p: RetryPolicy): string {
  const count = p.maxRetries < 0 ? "unlimited retries (bounded by budget and deadline)" : `up to ${p.maxRetries} retries`;
  const backoff =
    p.policy === "constant"
      ? `every ${ms(p.duration)}`
      : `exponential from ${ms(p.initialInterval)} x${p.multiplier} +-${p.randomizationFactor * 100}% capped at ${ms(p.maxInterval)}${p.maxElapsedTime ? `, giving up after ${ms(p.maxElapsedTime)}` : ""}`;
  if (p.onlyNeverSent) return `${p.name}: ${count} ${backoff}, only for calls that never reached a server`;
  const statuses = p.httpStatusCodes ? `HTTP ${ranges(p.httpStatusCodes)} (matching)` : `HTTP ${ranges(DEFAULT_RETRY_STATUSES)} (meshlet default; 4xx never)`;
  return `${p.name}: ${count} ${backoff}; statuses ${statuses}; transport errors and timeouts`;
}

/** The outlier ejection in force for the endpoint step. */
export function describeOutlier(p: EffectivePolicy): string {
  const o = p.outlier.value;
  if (o.maxEjectionPercent === 0) return `off  [${p.outlier.source}]`;
  return `${o.consecutiveFailures} failures in a row (5xx, refused or timed-out connections) eject an endpoint for ${ms(o.baseEjectionMs)} x its ejections so far, up to ${ms(o.maxEjectionMs)}; at most ${o.maxEjectionPercent} % of the endpoints at once  [${p.outlier.source}]`;
}

/** How the endpoint step picks an instance. */
export function describePick(p: EffectivePolicy): string {
  const p2c = "power of two choices over (outstanding + 1) x peak-EWMA time to headers";
  if (!p.loadBalancer) return p2c;
  const { hashHeader, warmupMs } = p.loadBalancer.value;
  const hash = hashHeader ? `a request with ${hashHeader} goes to the instance its value hashes to (rendezvous: when that instance fails or leaves, only its keys move), others by ${p2c}` : p2c;
  const warm = warmupMs ? `; an instance that joins warms up over ${ms(warmupMs)} (from 10 % of its share)` : "";
  return `${hash}${warm}  [${p.loadBalancer.source}]`;
}

/** The deadline step's value in force. */
export function describeDeadline(p: EffectivePolicy): string {
  const caller = "a caller's meshlet-timeout-ms bounds its call too, whichever ends first; peers and the app are told what is left";
  return p.deadline ? `${ms(p.deadline.value)} for the whole call; ${caller}  [${p.deadline.source}]` : `none configured; ${caller}`;
}

/** The retry step: policy, statuses, and what happens to this verb. */
export function describeRetry(p: EffectivePolicy, verb: string): string {
  if (!p.retry) return "none  [the target entry names no retry policy]";
  const r = p.retry.value;
  const repeat = mayRepeat(verb, new Headers(), r) && !r.onlyNeverSent;
  const verdict = r.onlyNeverSent
    ? `a ${verb} is retried only if it never reached a server`
    : repeat
      ? `a ${verb} is retried on the statuses and errors above`
      : `a ${verb} is retried only if it never reached the app or carries an Idempotency-Key (retryNonIdempotent: false)`;
  return `${retryText(r)}; ${verdict}; bodies over 64KiB or of unknown length are not replayed; budget 20% + 10/s  [${p.retry.source}]`;
}

/** The hedge step: delay, how many, and whether this verb is hedged. */
export function describeHedge(p: EffectivePolicy, verb: string): string {
  if (!p.hedge) return "none  [the target sets no hedge]";
  const h = p.hedge.value;
  const after = h.delayMs !== null ? ms(h.delayMs) : `p${h.percentile} of the last 128 reads' time to headers (none before 20 reads)`;
  const what = `a read (GET, HEAD, OPTIONS) still without headers after ${after} gets ${h.maxHedges === 1 ? "a second attempt" : `up to ${h.maxHedges} more, one per delay,`} on another instance; the first answer under 500 wins, the rest are cancelled; each hedge spends the retry budget`;
  const verdict = hedgeable(verb) ? `a ${verb} is hedged` : `a ${verb} is never hedged`;
  return `${what}; ${verdict}  [${p.hedge.source}]`;
}

export function describeBreaker(p: EffectivePolicy): string {
  if (!p.breaker) return "none";
  const b = p.breaker.value;
  return `${b.name}: trips when "${b.trip}", opens for ${ms(b.timeout)}, half-open admits ${b.maxRequests}, counts reset ${b.interval ? `every ${ms(b.interval)}` : "never while closed"}; keyed per app-id:method, LRU ${p.breakerCacheSize}  [${p.breaker.source}]`;
}

export function describeTryTimeout(p: EffectivePolicy): string {
  if (p.timeout.value.name === "--app-timeout") {
    return `${p.timeout.value.ms ? ms(p.timeout.value.ms) : "none"} for response headers per attempt; bodies are not timed  [${p.timeout.source}]`;
  }
  return `${ms(p.timeout.value.ms)} for response headers per attempt, then the same as an idle timeout on a streaming body  [${p.timeout.source}]`;
}

export function explainHeader(appId: string, verb: string, method: string, isSelf: boolean, resources: readonly string[]): string {
  const res = resources.length ? resources.join(", ") : "none loaded";
  return `${verb} ${appId}/${method.replace(/^\//, "")}${isSelf ? " (self-invocation)" : ""}\nresiliency resources: ${res}\nstack, outermost first:`;
}

/** One line on the question users ask most: would a POST to this target be retried? */
export function postVerdict(p: EffectivePolicy): string {
  const r = p.retry?.value;
  if (!r) return "POST: not retried (no retry policy)";
  if (r.onlyNeverSent) return "POST: retried only when it never reached a server (connection refused)";
  if (r.retryNonIdempotent) return "POST: retried like any verb (retryNonIdempotent: true)";
  return "POST: retried only when it never reached the app, or when it carries an Idempotency-Key";
}

/** The policy in force for a component's calls (`meshlet resiliency explain --component`). */
export function explainComponent(p: ComponentPolicy, type: string, resources: readonly string[]): string {
  const none = "none  [no target entry, no Default*Policy]";
  const count = (r: RetryPolicy) => (r.maxRetries < 0 ? "unlimited retries" : `up to ${r.maxRetries} retries`);
  const every = (r: RetryPolicy) => (r.policy === "constant" ? `every ${ms(r.duration)}` : `exponential from ${ms(r.initialInterval)} x${r.multiplier} capped at ${ms(r.maxInterval)}`);
  return (
    [
      `calls to component ${p.component} (${type}), outermost first`,
      `resources: ${resources.join(", ") || "none"}`,
      `1. retry: ${p.retry ? `${p.retry.value.name}: ${count(p.retry.value)} ${every(p.retry.value)}; any store error or timeout, never an ETag conflict  [${p.retry.source}]` : none}`,
      `2. circuit breaker: ${p.breaker ? `${p.breaker.value.name}: opens when ${p.breaker.value.trip}, half-open after ${ms(p.breaker.value.timeout)}  [${p.breaker.source}]` : none}`,
      `3. timeout: ${p.timeout ? `${ms(p.timeout.value.ms)} per attempt  [${p.timeout.source}]` : none}`,
    ].join("\n") + "\n"
  );
}
