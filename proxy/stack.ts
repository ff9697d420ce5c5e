// The one place the order of request-path behaviour is written, with the reason for each
// position: the two listeners' lists (EDGE for the API port, INBOUND for the internal port) and
// the per-target lists (OUTBOUND, SELF). Every step carries its own description, which `explain`
// prints, so the docs of the stack and its behaviour cannot drift apart.

import type { Call, Endpoint, Layer } from "../core/call.ts";
import type { Dialer } from "../runtime/dial.ts";
import type { Resolver } from "../resolvers/types.ts";
import type { Clock } from "../core/clock.ts";
import type { ResilienceEvents } from "../resiliency/events.ts";
import { type EffectivePolicy, FALLBACK_TIMEOUT_NAME } from "../resiliency/policy/resolve.ts";
import { balance, type EndpointStates, type ResolveObserver } from "./balance.ts";
import type { Tracing } from "../observability/tracing.ts";
import { attemptSpan } from "./trace-spans.ts";
import type { HttpMetrics } from "../observability/http-metrics.ts";
import { appMetrics, invocationMetrics } from "../observability/metrics-layers.ts";
import { toApp, toPeer, type SelfIdentity } from "./forward.ts";
import { type AppHealth, appHealthLayer } from "./app-health.ts";
import { headersTimeout } from "../resiliency/timeout.ts";
import { deadlineLayer } from "../resiliency/deadline.ts";
import { retryLayer } from "../resiliency/retry.ts";
import { breakerLayer, type BreakerRegistry } from "../resiliency/breaker-layer.ts";
import type { RetryBudget } from "../resiliency/budget.ts";
import { describeBreaker, describeDeadline, describeHedge, describeOutlier, describePick, describeRetry, describeTryTimeout, explainHeader, postVerdict } from "../resiliency/explain.ts";
import { hedgeLayer } from "../resiliency/hedge.ts";
import type { PolicySet } from "../resiliency/policy/types.ts";
import type { Handler } from "../core/incoming.ts";
import type { ApiDeps } from "./api.ts";
import { composeEdge, type EdgeStep } from "./edge/context.ts";
import {
  API_LOG,
  API_METRICS,
  API_ENDPOINTS,
  API_TOKEN,
  dispatchToTarget,
  FORWARDED,
  MEMORY_GUARD,
  RESPOND,
  ROUTE,
} from "./edge/api-steps.ts";
import { BODY_LIMIT, HEADER_HYGIENE, TRACE_CONTEXT } from "./edge/shared-steps.ts";
import {
  ACCESS_CONTROL,
  CALLEE_CHECK,
  CALLER_STAMP,
  dispatchToApp,
  DRAIN,
  INBOUND_METRICS,
  type InboundDeps,
  MEMORY_GUARD_INBOUND,
  PEER_IDENTITY,
  RESPOND_INBOUND,
  ROUTE_INBOUND,
} from "./edge/inbound-steps.ts";

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
  /** Told the duration of every name resolution (metric + debug log + span). */
  readonly observeResolve: ResolveObserver;
  /** Spans and export (NO_TRACING when off). */
  readonly tracing: Tracing;
  /** Dapr's metric families; null with --enable-metrics=false. */
  readonly metrics: HttpMetrics | null;
  /** The local app's health (null without an app): calls to a down app are refused as never delivered. */
  readonly appHealth: AppHealth | null;
  /** Told each target's endpoint states once its balancer is built (`meshlet_endpoints`). */
  readonly publishEndpoints?: (target: string, states: EndpointStates) => void;
}

/** Everything decided once per target: its effective policy and its retry budget. */
export interface TargetPlan {
  readonly target: string;
  readonly policy: EffectivePolicy;
  readonly budget: RetryBudget;
}

export interface StackStep {
  readonly name: "metrics" | "deadline" | "retry" | "hedge" | "circuit-breaker" | "endpoint" | "attempt-span" | "try-timeout" | "caller-stamp" | "app-metrics" | "app-health";
  readonly why: string;
  readonly layer: (d: StackDeps, t: TargetPlan) => Layer;
  /** What this step does for a call under `policy`, for `explain`: written beside the layer, so the two cannot drift. */
  readonly describe: (policy: EffectivePolicy, verb: string, method: string) => string;
}

const INVOCATION_METRICS: StackStep = {
  name: "metrics",
  why: "outermost: one invocation as the app sees it, retries and waits included, whatever the steps inside decide",
  layer: (d, t) => (d.metrics ? invocationMetrics(d.metrics, t.target) : (next) => next),
  describe: () => "dapr_runtime_service_invocation_req_sent_total, res_recv_total and res_recv_latency_ms by target and status  [built-in]",
};
const DEADLINE: StackStep = {
  name: "deadline",
  why: "outermost of the policies: one time budget for the whole call, every retry and backoff included",
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
const HEDGE: StackStep = {
  name: "hedge",
  why: "inside the retry (a hedged read is one try to the retry policy), outside the breaker: each hedge is admitted by the breaker and picks an endpoint afresh, away from the ones still answering",
  layer: (d, t) =>
    t.policy.hedge
      ? hedgeLayer({
          target: t.target,
          policy: t.policy.hedge.value,
          budget: t.budget,
          events: d.events,
          clock: d.clock,
          countRequests: !t.policy.retry || t.policy.retry.value.maxRetries === 0,
        })
      : (next) => next,
  describe: (p, verb) => describeHedge(p, verb),
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
  layer: (d, t) =>
    balance(d.resolver, {
      random: d.random,
      now: d.clock.now,
      observe: d.observeResolve,
      publish: (states) => d.publishEndpoints?.(t.target, states),
      failover: (endpoint, reason) => d.events.failover(t.target, endpoint, reason),
      outlier: t.policy.outlier.value,
      hashHeader: t.policy.loadBalancer?.value.hashHeader ?? null,
      warmupMs: t.policy.loadBalancer?.value.warmupMs ?? 0,
      onEject: (endpoint, ms, failures, ejections) => d.events.ejected(t.target, endpoint, ms, failures, ejections),
    }),
  describe: (p) =>
    `resolved per attempt; ${describePick(p)}; an instance that failed in this call is avoided; a request that never reached an app (refused, or the callee says meshlet-not-delivered) moves to another instance, POST included (meshlet_failovers_total)  [built-in]\n` +
    `   outlier ejection: ${describeOutlier(p)}`,
};
const ATTEMPT_SPAN: StackStep = {
  name: "attempt-span",
  why: "inside the endpoint choice, outside the per-try wait: one client span per attempt, naming the instance it went to and why the one before it failed",
  layer: (d) => (d.tracing.on ? attemptSpan(d.tracing, "/dapr.proto.internals.v1.ServiceInvocation/CallLocal") : (next) => next),
  describe: () => "with spec.tracing: a client span per attempt (attempt number, endpoint, retry reason, status, meshlet-reason); its context goes to the peer  [built-in]",
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

// === the listeners' lists: every request-path behaviour before the target's Call ===

/** The Dapr HTTP API listener, outermost first; the last step hands over to the target's Call. */
export const EDGE: readonly EdgeStep<ApiDeps>[] = [API_LOG, API_METRICS, RESPOND, ROUTE, API_TOKEN, MEMORY_GUARD, API_ENDPOINTS, HEADER_HYGIENE, TRACE_CONTEXT, FORWARDED, BODY_LIMIT];

/** The internal (sidecar-to-sidecar) listener, outermost first; the last step calls the local app. */
export const INBOUND: readonly EdgeStep<InboundDeps>[] = [
  INBOUND_METRICS,
  RESPOND_INBOUND,
  PEER_IDENTITY,
  DRAIN,
  MEMORY_GUARD_INBOUND,
  CALLEE_CHECK,
  ROUTE_INBOUND,
  ACCESS_CONTROL,
  HEADER_HYGIENE,
  CALLER_STAMP,
  TRACE_CONTEXT,
  BODY_LIMIT,
];

/** The API listener's handler: the EDGE steps over the target Calls. */
export function edgeHandler(d: ApiDeps): Handler {
  return composeEdge(EDGE, d, dispatchToTarget(d));
}

/** The internal listener's handler: the INBOUND steps over the call to the app. */
export function inboundHandler(d: InboundDeps): Handler {
  return composeEdge(INBOUND, d, dispatchToApp(d));
}

// === the target's lists: one Call per app-id, built on first use ===

/** Calls to another app-id, outermost first. */
export const OUTBOUND: readonly StackStep[] = [INVOCATION_METRICS, DEADLINE, RETRY, HEDGE, BREAKER, ENDPOINT, ATTEMPT_SPAN, TRY_TIMEOUT];
const CALLER_STAMP_SELF: StackStep = {
  name: "caller-stamp",
  why: "innermost: a call to this sidecar's own app carries what a peer's INBOUND caller-stamp would set",
  layer: (d) => (next) => (req, ctx) => {
    const h = req.headers;
    h.set("dapr-caller-app-id", d.self.appId);
    h.set("dapr-caller-namespace", d.self.namespace);
    h.set("dapr-callee-app-id", d.self.appId);
    return next(req, ctx);
  },
  describe: () => "dapr-caller-app-id, dapr-caller-namespace and dapr-callee-app-id: this sidecar's own  [built-in]",
};

const APP_METRICS: StackStep = {
  name: "app-metrics",
  why: "innermost, around the request to the app alone: how long the app took, apart from the sidecars and the policies",
  layer: (d) => (d.metrics ? appMetrics(d.metrics) : (next) => next),
  describe: () => "dapr_http_client_completed_count, roundtrip_latency, sent_bytes and received_bytes by method, path (pathMatching) and status  [built-in]",
};

const APP_HEALTH: StackStep = {
  name: "app-health",
  why: "before anything is spent on the call to the app: an app known to be down is answered at once, marked never delivered, so a calling sidecar sends the request to another instance",
  layer: (d) => (d.appHealth ? appHealthLayer(d.appHealth) : (next) => next),
  describe: () =>
    "app down (--enable-app-health-check probes failing, or refused connections --app-health-threshold times in a row): 503 app_unhealthy with meshlet-not-delivered, and this sidecar leaves discovery until a probe succeeds  [built-in]",
};

/** Calls to this sidecar's own app-id: the same policies, no endpoint choice, stamped as a peer's would be. */
export const SELF: readonly StackStep[] = [INVOCATION_METRICS, DEADLINE, RETRY, BREAKER, APP_HEALTH, ATTEMPT_SPAN, TRY_TIMEOUT, CALLER_STAMP_SELF, APP_METRICS];

export function compose(steps: readonly StackStep[], d: StackDeps, t: TargetPlan, terminal: Call): Call {
  let call = terminal;
  for (let i = steps.length - 1; i >= 0; i--) call = steps[i]!.layer(d, t)(call);
  return call;
}

export function outboundCall(d: StackDeps, t: TargetPlan): Call {
  return compose(OUTBOUND, d, t, toPeer(d.peerDialer, d.self, d.maxBodySize, d.peerSecret, d.clock.now));
}

export function selfCall(d: StackDeps, t: TargetPlan): Call {
  return compose(SELF, d, t, appCall(d));
}

const APP_TIMEOUT: StackStep = {
  name: "try-timeout",
  why: "the only step between a peer's call and the app: the caller's policies already ran on its side, so only this sidecar's --app-timeout bounds the wait for headers",
  layer: (d) => headersTimeout(d.tryTimeoutMs, d.clock),
  describe: (p) => describeTryTimeout(p),
};

const APP_SPAN: StackStep = {
  name: "attempt-span",
  why: "around the call to the app: the callee's client span, so a slow app shows apart from the sidecars",
  layer: (d) => (d.tracing.on ? attemptSpan(d.tracing, "app") : (next) => next),
  describe: () => "with spec.tracing: a client span for the call to the app; its context goes to the app  [built-in]",
};

/** Calls arriving from peers (after the INBOUND list), to the local app. */
export const TO_APP: readonly StackStep[] = [APP_HEALTH, APP_SPAN, APP_TIMEOUT, APP_METRICS];

/** The request to the app itself; a refused connection is a failed health probe. */
function appCall(d: StackDeps): Call {
  const health = d.appHealth;
  return toApp(d.dialer, d.app, d.maxBodySize, d.appApiToken, health ? (err) => health.refused(err.message) : undefined, d.clock.now);
}

/** The Call the INBOUND list hands over to: TO_APP over the app. */
export function inboundAppCall(d: StackDeps, t: TargetPlan): Call {
  return compose(TO_APP, d, t, appCall(d));
}

/** The stack for a call, step by step, as `explain` prints it. */
export function explainStack(isSelf: boolean, policy: EffectivePolicy, verb: string, method: string): string[] {
  const steps = isSelf ? SELF : OUTBOUND;
  return steps.map((s, i) => `${i + 1}. ${s.name}: ${s.describe(policy, verb, method)}\n   why here: ${s.why}`);
}

/** The whole explain text for one call: header, each step in stack order, the POST verdict. */
export function explainText(set: PolicySet, policy: EffectivePolicy, isSelf: boolean, verb: string, method: string): string {
  const listeners = [
    `before it, on this sidecar's API port: ${EDGE.map((s) => s.name).join(" -> ")}`,
    ...(isSelf ? [] : [`after it, on the callee's internal port: ${INBOUND.map((s) => s.name).join(" -> ")} -> its app`]),
  ];
  return [explainHeader(policy.appId, verb, method, isSelf, set.resources), ...explainStack(isSelf, policy, verb, method), ...listeners, postVerdict(policy)].join("\n") + "\n";
}

/** Every step of both listeners with what it does and why it sits where it does. */
export function explainListeners(): string {
  const list = (title: string, steps: readonly { name: string; describe: string; why: string }[]) =>
    [title, ...steps.map((s, i) => `${i + 1}. ${s.name}: ${s.describe}\n   why here: ${s.why}`)].join("\n");
  return `${list("API port (--dapr-http-port), outermost first:", EDGE)}\n\n${list("internal port (sidecar to sidecar), outermost first:", INBOUND)}\n`;
}
