import { describe, expect, it } from "vitest";
import { parseCodes, parseResiliencyText } from "./parse.ts";
import { mergeDocs } from "./load.ts";
import { resolvePolicy } from "./resolve.ts";

const FULL = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: myresiliency
scopes: [checkout]
spec:
  policies:
    timeouts:
      general: 5s
      important: 1m30s
      bare: 250
    retries:
      retryForever:
        policy: Exponential
        maxInterval: 15s
        maxRetries: -1
        matching:
          httpStatusCodes: "429,500-599"
          gRPCStatusCodes: "1-4,8-11,13,14"
      fixed:
        duration: 200ms
        maxRetries: 3
    circuitBreakers:
      simpleCB:
        maxRequests: 1
        interval: 8s
        timeout: 45s
        trip: consecutiveFailures > 8
  targets:
    apps:
      appB:
        timeout: general
        retry: retryForever
        circuitBreaker: simpleCB
        circuitBreakerCacheSize: 50
    actors:
      myActor: { timeout: general, retry: retryForever, circuitBreaker: simpleCB, circuitBreakerScope: both }
    components:
      statestore:
        outbound: { timeout: general, retry: retryForever, circuitBreaker: simpleCB }
`;

describe("Resiliency YAML", () => {
  it("reads every field of Dapr's example with defaults filled in", () => {
    const { docs, problems } = parseResiliencyText(FULL, "r.yaml");
    expect(problems).toEqual([]);
    const d = docs[0]!;
    expect(d.scopes).toEqual(["checkout"]);
    expect(d.timeouts.get("important")!.value.ms).toBe(90_000);
    expect(d.timeouts.get("bare")!.value.ms).toBe(250);
    const r = d.retries.get("retryForever")!.value;
    expect(r).toMatchObject({ policy: "exponential", maxInterval: 15_000, maxRetries: -1, initialInterval: 500, multiplier: 1.5, maxElapsedTime: 900_000 });
    expect(r.httpStatusCodes).toEqual([
      [429, 429],
      [500, 599],
    ]);
    expect(d.retries.get("fixed")!.value).toMatchObject({ policy: "constant", duration: 200, maxRetries: 3, httpStatusCodes: null });
    const cb = d.breakers.get("simpleCB")!.value;
    expect(cb).toMatchObject({ maxRequests: 1, interval: 8000, timeout: 45_000 });
    expect(cb.tripFn({ requests: 9, totalFailures: 9, totalSuccesses: 0, consecutiveFailures: 9, consecutiveSuccesses: 0 })).toBe(true);
    expect(cb.tripFn({ requests: 8, totalFailures: 8, totalSuccesses: 0, consecutiveFailures: 8, consecutiveSuccesses: 0 })).toBe(false);
    expect(d.apps.get("appB")).toMatchObject({ timeout: "general", retry: "retryForever", circuitBreaker: "simpleCB", circuitBreakerCacheSize: 50, at: "r.yaml:31" });
    expect(Object.isFrozen(r)).toBe(true);
  });

  it("reports unknown fields, bad durations, bad codes and bad trip expressions with file and line", () => {
    const text = `kind: Resiliency
metadata: {name: bad}
spec:
  policies:
    timeouts:
      t1: 5 seconds
    retries:
      r1:
        duration: 5
        maxRetries: lots
        matching:
          httpStatusCodes: "500-400,abc"
        retryOnMonday: true
    circuitBreakers:
      cb1:
        trip: consecutiveFailures >
      cb2:
        trip: consecutiveFailures + 1
  targetz: {}
`;
    const { problems } = parseResiliencyText(text, "bad.yaml");
    expect(problems).toEqual([
      expect.stringMatching(/^bad\.yaml:19: spec\.targetz: unknown field/),
      'bad.yaml:6: spec.policies.timeouts.t1: invalid duration "5 seconds" (Go syntax: 500ms, 5s, 1m30s)',
      expect.stringMatching(/^bad\.yaml:13: spec\.policies\.retries\.r1\.retryOnMonday: unknown field/),
      expect.stringMatching(/^bad\.yaml:12: spec\.policies\.retries\.r1\.matching\.httpStatusCodes: "500-400" is outside/),
      expect.stringMatching(/^bad\.yaml:9: spec\.policies\.retries\.r1\.duration: expected a duration string/),
      "bad.yaml:10: spec.policies.retries.r1.maxRetries: expected an integer >= -1",
      expect.stringMatching(/^bad\.yaml:16: spec\.policies\.circuitBreakers\.cb1\.trip: invalid trip expression/),
      'bad.yaml:18: spec.policies.circuitBreakers.cb2.trip: trip expression "consecutiveFailures + 1" must be a boolean, not int',
    ]);
  });

  it("reports a YAML syntax error with its line, and references to missing policies at merge", () => {
    expect(parseResiliencyText("kind: Resiliency\nspec:\n  policies: [a\n", "s.yaml").problems[0]).toMatch(/^s\.yaml:\d+: invalid YAML/);
    const { docs } = parseResiliencyText("kind: Resiliency\nspec:\n  targets:\n    apps:\n      a: {retry: nope}\n", "m.yaml");
    expect(() => mergeDocs(docs, null)).toThrow('m.yaml:5: spec.targets.apps.a.retry: no retry policy named "nope"');
  });

  it("parses status lists like Dapr", () => {
    expect(parseCodes("429, 500-599,,", 100, 599)).toEqual([
      [429, 429],
      [500, 599],
    ]);
    expect(() => parseCodes("1-2-3", 0, 16)).toThrow();
    expect(() => parseCodes("600", 100, 599)).toThrow();
  });
});

describe("precedence", () => {
  const set = (text: string, appId: string | null = null) => mergeDocs(parseResiliencyText(text, "p.yaml").docs, appId);
  const base = `kind: Resiliency
metadata: {name: p}
spec:
  policies:
    timeouts: {DefaultAppTimeoutPolicy: 3s, DefaultTimeoutPolicy: 9s, named: 1s}
    retries:
      DefaultRetryPolicy: {maxRetries: 2, duration: 10ms}
      named: {maxRetries: 5}
    circuitBreakers:
      DefaultCircuitBreakerPolicy: {trip: consecutiveFailures > 2}
  targets:
    apps:
      special: {retry: named}
`;

  it("a named target uses only its named policies, missing kinds are not filled from defaults", () => {
    const p = resolvePolicy(set(base), "special", 60_000);
    expect(p.retry?.value.name).toBe("named");
    expect(p.retry?.source).toMatch(/^target apps\.special\.retry -> named \(p\.yaml:\d+\)$/);
    expect(p.breaker).toBeNull();
    expect(p.timeout.source).toBe("built-in (--app-timeout)");
  });

  it("other apps get DefaultApp* before Default*, and DefaultRetryPolicy replaces the built-in retries", () => {
    const p = resolvePolicy(set(base), "other", 60_000);
    expect(p.timeout.value.ms).toBe(3000);
    expect(p.timeout.source).toMatch(/^DefaultAppTimeoutPolicy/);
    expect(p.retry?.value.name).toBe("DefaultRetryPolicy");
    expect(p.breaker?.value.name).toBe("DefaultCircuitBreakerPolicy");
  });

  it("with nothing configured: Dapr's built-in service retries and the --app-timeout", () => {
    const p = resolvePolicy(set("kind: Resiliency\nspec: {}\n"), "x", 1234);
    expect(p.retry?.value).toMatchObject({ name: "DaprBuiltInServiceRetries", maxRetries: 3, duration: 1000, onlyNeverSent: true });
    expect(p.timeout.value.ms).toBe(1234);
  });

  it("scopes limit a resource to the listed app-ids", () => {
    const scoped = "kind: Resiliency\nscopes: [checkout]\nspec:\n  policies:\n    timeouts: {DefaultTimeoutPolicy: 2s}\n";
    expect(resolvePolicy(set(scoped, "checkout"), "x", 60_000).timeout.value.ms).toBe(2000);
    expect(resolvePolicy(set(scoped, "orders"), "x", 60_000).timeout.value.ms).toBe(60_000);
  });

  it("outlierDetection (a meshlet extension on an app target): defaults filled, bad values named with file and line", () => {
    const ok = "kind: Resiliency\nspec:\n  targets:\n    apps:\n      orders:\n        outlierDetection: {consecutiveFailures: 3, baseEjectionTime: 2s}\n";
    const p = resolvePolicy(set(ok), "orders", 60_000);
    expect(p.outlier.value).toEqual({ consecutiveFailures: 3, baseEjectionMs: 2000, maxEjectionMs: 60_000, maxEjectionPercent: 50 });
    expect(p.outlier.source).toBe("target apps.orders.outlierDetection (p.yaml:5)");
    expect(resolvePolicy(set(ok), "other", 60_000).outlier).toMatchObject({ source: "built-in", value: { consecutiveFailures: 5 } });
    const bad = "kind: Resiliency\nspec:\n  targets:\n    apps:\n      orders:\n        outlierDetection:\n          maxEjectionPercent: 120\n          consecutive: 2\n";
    expect(parseResiliencyText(bad, "b.yaml").problems).toEqual([
      expect.stringMatching(/^b\.yaml:8: spec\.targets\.apps\.orders\.outlierDetection\.consecutive: unknown field/),
      expect.stringMatching(/^b\.yaml:7: spec\.targets\.apps\.orders\.outlierDetection\.maxEjectionPercent: must be 0-100/),
    ]);
  });

  it("hedge (a meshlet extension on an app target): a duration or a percentile, maxHedges 1-3, only where set", () => {
    const doc = (h: string) => `kind: Resiliency\nspec:\n  targets:\n    apps:\n      inv:\n        hedge: ${h}\n`;
    const fixed = resolvePolicy(set(doc("{delay: 50ms}")), "inv", 60_000);
    expect(fixed.hedge).toEqual({ value: { delayMs: 50, percentile: null, maxHedges: 1 }, source: "target apps.inv.hedge (p.yaml:5)" });
    expect(resolvePolicy(set(doc("{delay: p99.9, maxHedges: 2}")), "inv", 60_000).hedge!.value).toEqual({ delayMs: null, percentile: 99.9, maxHedges: 2 });
    expect(resolvePolicy(set(doc("{delay: 50ms}")), "other", 60_000).hedge).toBeNull();
    const problems = (h: string) => parseResiliencyText(doc(h), "b.yaml").problems;
    expect(problems("{maxHedges: 1}")).toEqual([expect.stringMatching(/^b\.yaml:6: spec\.targets\.apps\.inv\.hedge\.delay: required/)]);
    expect(problems("{delay: p100}")).toEqual([expect.stringMatching(/hedge\.delay: a percentile is written p50 to p99\.99/)]);
    expect(problems("{delay: p20}")).toEqual([expect.stringMatching(/hedge\.delay: a percentile from p50/)]);
    expect(problems("{delay: soon}")).toEqual([expect.stringMatching(/hedge\.delay: invalid duration "soon"/)]);
    expect(problems("{delay: 0s}")).toEqual([expect.stringMatching(/hedge\.delay: must be longer than 0/)]);
    expect(problems("{delay: 5ms, maxHedges: 4}")).toEqual([expect.stringMatching(/hedge\.maxHedges: must be 1-3/)]);
    expect(problems("{delay: 5ms, after: 1}")).toEqual([expect.stringMatching(/hedge\.after: unknown field/)]);
    expect(problems("fast")).toEqual([expect.stringMatching(/hedge: expected a mapping/)]);
  });

  it("loadBalancer (a meshlet extension, Istio's shape): consistentHash.httpHeaderName lower-cased, warmupDurationSecs, validated", () => {
    const doc = (b: string) => `kind: Resiliency\nspec:\n  targets:\n    apps:\n      cart:\n        loadBalancer: ${b}\n`;
    expect(resolvePolicy(set(doc("{consistentHash: {httpHeaderName: X-User-Id}}")), "cart", 60_000).loadBalancer).toEqual({
      value: { hashHeader: "x-user-id", warmupMs: 0 },
      source: "target apps.cart.loadBalancer (p.yaml:5)",
    });
    expect(resolvePolicy(set(doc("{consistentHash: {httpHeaderName: x}}")), "other", 60_000).loadBalancer).toBeNull();
    const problems = (b: string) => parseResiliencyText(doc(b), "b.yaml").problems;
    expect(problems("{consistentHash: {httpHeaderName: 'x user'}}")).toEqual([expect.stringMatching(/^b\.yaml:6: .*loadBalancer\.consistentHash\.httpHeaderName: "x user" is not a header name/)]);
    expect(problems("{consistentHash: {}}")).toEqual([expect.stringMatching(/loadBalancer\.consistentHash\.httpHeaderName: required/)]);
    expect(problems("{}")).toEqual([expect.stringMatching(/loadBalancer: set consistentHash, warmupDurationSecs or both/)]);
    const warm = (b: string) => resolvePolicy(set(doc(b)), "cart", 60_000).loadBalancer!.value;
    expect(warm("{warmupDurationSecs: 30s}")).toEqual({ hashHeader: null, warmupMs: 30_000 });
    expect(warm("{warmupDurationSecs: 45}")).toEqual({ hashHeader: null, warmupMs: 45_000 });
    expect(problems("{warmupDurationSecs: 0s}")).toEqual([expect.stringMatching(/warmupDurationSecs: must be more than 0 and at most 1h/)]);
    expect(problems("{warmupDurationSecs: soon}")).toEqual([expect.stringMatching(/warmupDurationSecs: invalid duration/)]);
    expect(problems("{simple: ROUND_ROBIN}")).toEqual([expect.stringMatching(/loadBalancer\.simple: unknown field/)]);
  });
});
