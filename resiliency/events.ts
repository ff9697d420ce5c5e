// Where resiliency layers report what they did: every event is counted, and logged at info
// once per event kind per target per window (then a summary of how many were folded), so an
// outage produces a handful of lines instead of a flood.

import { type Logger, throttledInfo } from "../core/log.ts";
import type { Metrics } from "../core/metrics.ts";
import type { BreakerState } from "./breaker.ts";
import { STATE_GAUGE } from "./breaker.ts";

export interface ResilienceEvents {
  retry(target: string, policy: string, attempt: number, why: string): void;
  timeout(target: string, policy: string, ms: number): void;
  breaker(target: string, policy: string, key: string, from: BreakerState, to: BreakerState): void;
  budgetExhausted(target: string): void;
  notRetryable(target: string, why: string): void;
  /** `endpoint` was ejected for `ms` after `failures` failures in a row (its `ejections`-th time). */
  ejected(target: string, endpoint: string, ms: number, failures: number, ejections: number): void;
  /** A request that never reached an app moved from `endpoint` to another instance. */
  failover(target: string, endpoint: string, reason: string): void;
  /** A hedged read: a hedge `sent`, a call a hedge `won`, or a hedge the retry `budget` refused. */
  hedge(target: string, outcome: "sent" | "won" | "budget"): void;
}

export function resilienceEvents(opts: {
  appId: string;
  namespace: string;
  log: Logger;
  metrics: Metrics;
  windowMs?: number;
  now?: () => number;
  /** What the targets are: app-ids (default) or components (state stores), as Dapr's `target` label says. */
  kind?: "app" | "component";
}): ResilienceEvents {
  const { appId, namespace, log, metrics } = opts;
  const windowMs = opts.windowMs ?? 10_000;
  const once = throttledInfo(log, windowMs, opts.now ?? Date.now);
  const throttled = (kind: string, target: string, msg: string, fields: Record<string, unknown>) =>
    once(`${kind}\u0000${target}`, msg, { ...fields, target });
  // Label values come from clients (app-ids, method paths): past a bound they are folded, so
  // the metric registry cannot grow without limit.
  const bounded = boundedLabels(1000);
  const component = opts.kind === "component";
  // meshlet's own families name a component `component:<name>`, so it cannot pass for an app-id.
  const targets = component ? (t: string) => `component:${bounded(t)}` : bounded;
  const daprTarget = component ? (t: string) => `component_${bounded(t)}` : (t: string) => `app_${bounded(t)}`;
  const keys = boundedLabels(1000);
  const causes = boundedLabels(100);
  const act = (policy: string, name: string, target: string, status = "") =>
    metrics.activations.inc({ app_id: appId, name, namespace, policy, flow_direction: "outbound", target: daprTarget(target), status });

  return {
    retry(target, policy, attempt, why) {
      act("retry", policy, target);
      metrics.retries.inc({ target: targets(target), cause: causes(why) });
      throttled("retry", target, "retrying call", { policy, attempt, why });
    },
    timeout(target, policy, ms) {
      act("timeout", policy, target);
      throttled("timeout", target, "per-try timeout fired", { policy, timeout_ms: ms });
    },
    breaker(target, policy, key, from, to) {
      act("circuitbreaker", policy, target, to);
      metrics.breakerState.set({ app_id: appId, name: policy, target: daprTarget(target), key: keys(key) }, STATE_GAUGE[to]);
      // State changes are rare and matter: always logged.
      log.info("circuit breaker state changed", { target, policy, key, from, to });
    },
    ejected(target, endpoint, ms, failures, ejections) {
      metrics.ejections.inc({ target: targets(target) });
      // Ejections are rare and explain traffic moving away: always logged (Envoy's lesson).
      log.warn("endpoint ejected as an outlier", { target, endpoint, for_ms: ms, failures_in_a_row: failures, ejections });
    },
    failover(target, endpoint, reason) {
      metrics.failovers.inc({ target: targets(target), reason: causes(reason) });
      throttled("failover", target, "request never reached the app; sent to another instance", { endpoint, reason });
    },
    budgetExhausted(target) {
      metrics.budgetExhausted.inc({ target: targets(target) });
      throttled("budget", target, "retry budget exhausted: not retrying", {});
    },
    hedge(target, outcome) {
      metrics.hedges.inc({ target: targets(target), outcome });
      if (outcome === "won") throttled("hedge", target, "a hedged read answered before the first attempt", {});
      else if (outcome === "budget") throttled("hedgeBudget", target, "retry budget exhausted: not hedging", {});
    },
    notRetryable(target, why) {
      metrics.notRetryable.inc({ target: targets(target), why });
      throttled(`notRetryable:${why}`, target, "request is not retryable", { why });
    },
  };
}

/** The first `max` distinct values pass as they are; later new ones become `_other`. */
export function boundedLabels(max: number): (v: string) => string {
  const known = new Set<string>();
  return (v) => {
    if (known.has(v)) return v;
    if (known.size >= max) return "_other";
    known.add(v);
    return v;
  };
}
