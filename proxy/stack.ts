// The one place the layer order is written, with the reason for each position. Sidecar wiring
// builds per-target Calls from these lists and `explain` prints the same lists, so the docs of
// the stack and its behaviour cannot drift apart.

import type { Call, Endpoint, Layer } from "../core/call.ts";
import type { Dialer } from "../runtime/dial.ts";
import type { Resolver } from "../resolvers/types.ts";
import type { Clock } from "../core/clock.ts";
import type { ResilienceEvents } from "../resiliency/events.ts";
import { type EffectivePolicy, FALLBACK_TIMEOUT_NAME } from "../resiliency/policy/resolve.ts";
import { balance } from "./balance.ts";
import { toApp, toPeer, type SelfIdentity } from "./forward.ts";
import { headersTimeout } from "../resiliency/timeout.ts";
import { deadlineLayer } from "../resiliency/deadline.ts";
import { retryLayer } from "../resiliency/retry.ts";
import { breakerLayer, type BreakerRegistry } from "../resiliency/breaker-layer.ts";
import type { RetryBudget } from "../resiliency/budget.ts";
import { describeBreaker, describeDeadline, describeRetry, describeTryTimeout, explainHeader, postVerdict } from "../resiliency/explain.ts";
import type { PolicySet } from "../resiliency/policy/types.ts";

export interface StackDeps {
  readonly self: SelfIdentity;
  /** Dials the local app. */
  readonly dialer: Dialer;
  /** Dials peer sidecars (the internal transport: plain today, mTLS next). */
  readonly peerDialer: Dialer;
  readonly resolver: Resolver;
  readonly maxBodySize: number;
  readonly app: Endpoint | null;
  readonly appApiToken?: string;
  /** Sent to peers while mTLS is off (transport/peer-secret.ts). */
  readonly peerSecret?: string;
  /** The sidecar's --app-timeout: the per-try wait when no policy names a timeout. */
  readonly tryTimeoutMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly events: ResilienceEvents;
  readonly breakers: BreakerRegistry;
  /** Largest request body held for replay (bytes). */
  readonly replayCap: number;
  /** Told the duration of every name resolution (metric + debug log). */
  readonly observeResolve: (appId: string, ms: number, ok: boolean) => void;
}

/** Everything decided once per target: its effective policy and its retry budget. */
export interface TargetPlan {
  readonly target: string;
  readonly policy: EffectivePolicy;
  readonly budget: RetryBudget;
}

export interface StackStep {
  readonly name: "deadline" | "retry" | "circuit-breaker" | "endpoint" | "try-timeout";
  readonly why: string;
  readonly layer: (d: StackDeps, t: TargetPlan) => Layer;
  /** What this step does for a call under `policy`, for `explain`: written beside the layer, so the two cannot drift. */
  readonly describe: (policy: EffectivePolicy, verb: string, method: string) => string;
}

const DEADLINE: StackStep = {
  name: "deadline",
  why: "outermost: one time budget for the whole call, every retry and backoff included",
  layer: (d, t) => deadlineLayer(t.policy.deadline?.value ?? null, d.clock),
  describe: (p) => describeDeadline(p),
};
const RETRY: StackStep = {
  name: "retry",
  why: "inside the deadline, outside the breaker: each attempt is admitted by the breaker and picks an endpoint afresh",
  layer: (d, t) =>
    t.policy.retry
      ? retryLayer({ target: t.target, policy: t.policy.retry.value, budget: t.budget, events: d.events, clock: d.clock, random: d.random, replayCap: d.replayCap })
      : (next) => next,
  describe: (p, verb) => describeRetry(p, verb),
};
const BREAKER: StackStep = {
  name: "circuit-breaker",
  why: "per app-id:method (Dapr's key), sees every attempt; an open breaker fails fast before any endpoint is picked",
  layer: (d, t) => (t.policy.breaker ? breakerLayer(t.target, t.policy.breaker.value, t.policy.breakerCacheSize, d.breakers, d.events) : (next) => next),
  describe: (p) => describeBreaker(p),
};
const ENDPOINT: StackStep = {
  name: "endpoint",
  why: "resolve the app-id per attempt, avoid endpoints that just failed, move never-sent requests to another instance",
  layer: (d) => balance(d.resolver, d.random, d.clock.now, d.observeResolve),
  describe: () =>
    "resolved per attempt; power of two choices over (outstanding + 1) x peak-EWMA time to headers; an instance that failed in this call is avoided, and a request that never reached one is moved to another  [built-in]",
};
const TRY_TIMEOUT: StackStep = {
  name: "try-timeout",
  why: "innermost: each attempt waits a bounded time for headers; streaming bodies get an idle timeout instead",
  layer: (d, t) => {
    const p = t.policy.timeout.value;
    const fromPolicy = p.name !== FALLBACK_TIMEOUT_NAME;
    return headersTimeout(p.ms, d.clock, () => d.events.timeout(t.target, p.name, p.ms), fromPolicy);
  },
  describe: (p) => describeTryTimeout(p),
};

/** Calls to another app-id, outermost first. */
export const OUTBOUND: readonly StackStep[] = [DEADLINE, RETRY, BREAKER, ENDPOINT, TRY_TIMEOUT];
/** Calls to this sidecar's own app-id: the same policies, no endpoint choice. */
export const SELF: readonly StackStep[] = [DEADLINE, RETRY, BREAKER, TRY_TIMEOUT];

export function compose(steps: readonly StackStep[], d: StackDeps, t: TargetPlan, terminal: Call): Call {
  let call = terminal;
  for (let i = steps.length - 1; i >= 0; i--) call = steps[i]!.layer(d, t)(call);
  return call;
}

export function outboundCall(d: StackDeps, t: TargetPlan): Call {
  return compose(OUTBOUND, d, t, toPeer(d.peerDialer, d.self, d.maxBodySize, d.peerSecret));
}

export function selfCall(d: StackDeps, t: TargetPlan): Call {
  return compose(SELF, d, t, toApp(d.dialer, d.app, d.maxBodySize, d.appApiToken));
}

/** Calls arriving from peers, to the local app: bounded by this sidecar's --app-timeout only. */
export function inboundAppCall(d: StackDeps): Call {
  return headersTimeout(d.tryTimeoutMs, d.clock)(toApp(d.dialer, d.app, d.maxBodySize, d.appApiToken));
}

/** The stack for a call, step by step, as `explain` prints it. */
export function explainStack(isSelf: boolean, policy: EffectivePolicy, verb: string, method: string): string[] {
  const steps = isSelf ? SELF : OUTBOUND;
  return steps.map((s, i) => `${i + 1}. ${s.name}: ${s.describe(policy, verb, method)}\n   why here: ${s.why}`);
}

/** The whole explain text for one call: header, each step in stack order, the POST verdict. */
export function explainText(set: PolicySet, policy: EffectivePolicy, isSelf: boolean, verb: string, method: string): string {
  return [explainHeader(policy.appId, verb, method, isSelf, set.resources), ...explainStack(isSelf, policy, verb, method), postVerdict(policy)].join("\n") + "\n";
}
