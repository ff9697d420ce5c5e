// Resiliency for component calls on a fake clock: Dapr's precedence for component targets, and
// retry( breaker( timeout( op ) ) ) over scripted store operations, with Dapr's metric labels.

import { describe, expect, it } from "vitest";
import { fakeClock } from "../core/fake-clock.ts";
import { silentLogger } from "../core/log.ts";
import { Metrics } from "../core/metrics.ts";
import { BreakerRegistry } from "./breaker-layer.ts";
import { componentGuard, UNGUARDED } from "./component-guard.ts";
import { resilienceEvents } from "./events.ts";
import { mergeDocs } from "./policy/load.ts";
import { parseResiliencyText } from "./policy/parse.ts";
import { resolveComponentPolicy } from "./policy/resolve-component.ts";

const POLICIES = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: stores}
spec:
  policies:
    timeouts:
      quick: 300ms
      general: 5s
    retries:
      fewTimes: {policy: constant, duration: 100ms, maxRetries: 3}
      DefaultComponentRetryPolicy: {policy: constant, duration: 1s, maxRetries: 1}
      DefaultStatestoreComponentOutboundRetryPolicy: {policy: constant, duration: 2s, maxRetries: 2}
    circuitBreakers:
      twoStrikes: {maxRequests: 1, timeout: 10s, trip: consecutiveFailures >= 2}
  targets:
    components:
      statestore:
        outbound: {timeout: quick, retry: fewTimes, circuitBreaker: twoStrikes}
      cache:
        outbound: {timeout: general}
`;

class Conflict extends Error {}

function loadPolicyText(text: string, file: string) {
  const { docs, problems } = parseResiliencyText(text, file);
  if (problems.length) throw new Error(problems.join("\n"));
  return mergeDocs(docs, null);
}

function setup(text = POLICIES) {
  const set = loadPolicyText(text, "r.yaml");
  const { clock, advance } = fakeClock();
  const metrics = new Metrics();
  const events = resilienceEvents({ appId: "me", namespace: "default", log: silentLogger, metrics, kind: "component" });
  const deps = { events, breakers: new BreakerRegistry(() => clock.now()), clock, random: () => 0.5, isAnswer: (e: unknown) => e instanceof Conflict };
  return { set, clock, advance, metrics, deps };
}

/** Lets promise callbacks run between fake-clock steps. */
const settle = () => new Promise((r) => setImmediate(r));

describe("component policy precedence (Dapr's)", () => {
  it("a target entry uses only its named policies; others fall back to the most specific Default*Policy", () => {
    const { set } = setup();
    const named = resolveComponentPolicy(set, "statestore", "state.redis");
    expect([named.timeout?.value.ms, named.retry?.value.name, named.breaker?.value.name]).toEqual([300, "fewTimes", "twoStrikes"]);
    expect(named.timeout?.source).toMatch(/^target components\.statestore\.outbound\.timeout -> quick \(r\.yaml:\d+\)$/);
    // A target naming only a timeout gets no retry from the defaults.
    const cache = resolveComponentPolicy(set, "cache", "state.in-memory");
    expect([cache.timeout?.value.ms, cache.retry, cache.breaker]).toEqual([5000, null, null]);
    // No target: the state store default beats the component-wide one.
    expect(resolveComponentPolicy(set, "other", "state.sqlite").retry?.value.name).toBe("DefaultStatestoreComponentOutboundRetryPolicy");
    expect(resolveComponentPolicy(set, "vault", "secretstores.local.file").retry?.value.name).toBe("DefaultComponentRetryPolicy");
  });

  it("a target naming a policy that does not exist is a load error with file:line", () => {
    expect(() => loadPolicyText(POLICIES.replace("retry: fewTimes", "retry: nope"), "r.yaml")).toThrow(/r\.yaml:\d+: spec\.targets\.components\.statestore\.outbound\.retry: no retry policy named "nope"/);
    expect(() => loadPolicyText(POLICIES.replace("outbound: {timeout: general}", "outbound: {timeout: general, bogus: 1}"), "r.yaml")).toThrow(/bogus/);
  });

  it("no policy at all leaves operations as they are", () => {
    const { deps } = setup();
    const empty = loadPolicyText("kind: Resiliency\nmetadata: {name: none}\nspec: {policies: {}}\n", "e.yaml");
    expect(componentGuard(resolveComponentPolicy(empty, "statestore", "state.redis"), deps)).toBe(UNGUARDED);
  });
});

describe("retry( breaker( timeout( op ) ) ) for a component", () => {
  it("retries a failing operation on the policy's interval and returns the first success", async () => {
    const { set, advance, deps, metrics } = setup();
    const guard = componentGuard(resolveComponentPolicy(set, "statestore", "state.redis"), deps);
    let calls = 0;
    const done = guard(async () => {
      if (++calls < 2) throw new Error("connection lost");
      return "saved";
    });
    await settle();
    expect(calls).toBe(1);
    advance(99);
    await settle();
    expect(calls).toBe(1);
    advance(1);
    await settle();
    expect(await done).toBe("saved");
    expect(calls).toBe(2);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/dapr_resiliency_activations_total\{[^}]*policy="retry"[^}]*target="component_statestore"[^}]*\} 1/);
    expect(text).toMatch(/meshlet_retries_total\{target="component:statestore",cause="component_error"\} 1/);
  });

  it("does not retry the store's answer (an ETag conflict), nor count it against the breaker", async () => {
    const { set, deps } = setup();
    const guard = componentGuard(resolveComponentPolicy(set, "statestore", "state.redis"), deps);
    let calls = 0;
    for (let i = 0; i < 5; i++) {
      await expect(guard(() => (calls++, Promise.reject(new Conflict("etag"))))).rejects.toBeInstanceOf(Conflict);
    }
    expect(calls).toBe(5);
    expect(await guard(async () => "ok")).toBe("ok");
  });

  it("times out a slow operation per attempt, retries it, and opens the breaker after two failures: then fails fast", async () => {
    const { set, advance, deps, metrics } = setup();
    const guard = componentGuard(resolveComponentPolicy(set, "statestore", "state.redis"), deps);
    let calls = 0;
    const never = () => (calls++, new Promise<string>(() => {}));
    const first = guard(never);
    const outcome = first.then(
      () => "resolved",
      (e: Error) => e.message,
    );
    await settle();
    advance(300); // attempt 1 times out
    await settle();
    advance(100); // backoff
    await settle();
    advance(300); // attempt 2 times out: two failures in a row open the breaker
    await settle();
    advance(100);
    await settle();
    // Attempt 3 meets the open breaker: that is final, no more retries.
    expect(await outcome).toBe("circuit breaker is open");
    expect(calls).toBe(2);
    await expect(guard(never)).rejects.toThrow("circuit breaker is open");
    expect(calls).toBe(2);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/dapr_resiliency_activations_total\{[^}]*policy="timeout"[^}]*target="component_statestore"[^}]*\} 2/);
    expect(text).toMatch(/dapr_resiliency_cb_state\{[^}]*target="component_statestore"[^}]*\} 2/);
    // The third attempt was a retry too: it met the open breaker.
    expect(text).toMatch(/meshlet_retries_total\{target="component:statestore",cause="timeout"\} 2/);
    // After the breaker's timeout one trial goes through; its success closes the breaker.
    advance(10_000);
    expect(await guard(async () => (calls++, "back"))).toBe("back");
    expect(await guard(async () => "again")).toBe("again");
  });

  it("stops retrying when the client goes away", async () => {
    const { set, advance, deps } = setup();
    const guard = componentGuard(resolveComponentPolicy(set, "statestore", "state.redis"), deps);
    const ac = new AbortController();
    let calls = 0;
    const p = guard(() => (calls++, Promise.reject(new Error("down"))), ac.signal);
    const outcome = p.then(
      () => "resolved",
      (e: unknown) => String(e),
    );
    await settle();
    ac.abort(new Error("client gone"));
    advance(1_000);
    await settle();
    expect(await outcome).toBe("Error: client gone");
    expect(calls).toBe(1);
  });
});
