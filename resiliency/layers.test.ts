// In-process tests of the resiliency layers on a fake clock, each alone and composed in the
// stack file's real OUTBOUND order over a fake resolver and a scripted terminal: no sockets, no
// sleeps.

import { describe, expect, it } from "vitest";
import { fakeClock } from "../core/fake-clock.ts";
import { retryLayer } from "./retry.ts";
import { deadlineLayer } from "./deadline.ts";
import { breakerLayer, BreakerRegistry } from "./breaker-layer.ts";
import { RetryBudget, DEFAULT_BUDGET } from "./budget.ts";
import type { ResilienceEvents } from "./events.ts";
import type { RetryPolicy } from "./policy/types.ts";
import { compileTrip } from "./trip.ts";
import { mergeDocs } from "./policy/load.ts";
import { parseResiliencyText } from "./policy/parse.ts";
import { resolvePolicy } from "./policy/resolve.ts";
import { compose, OUTBOUND, type StackDeps } from "../proxy/stack.ts";
import type { Call, CallContext, Endpoint, ProxyRequest } from "../core/call.ts";
import { endpoint } from "../core/call.ts";
import { HeaderList } from "../core/header-list.ts";
import { invokeError, SidecarError } from "../core/errors.ts";
import type { Resolver } from "../resolvers/types.ts";
import type { Dialer } from "../runtime/dial.ts";
import { NO_TRACING } from "../observability/tracing.ts";

const events: ResilienceEvents & { log: string[] } = {
  log: [],
  retry(target, policy, attempt, why) {
    this.log.push(`retry ${target} ${attempt} ${why}`);
  },
  timeout() {},
  breaker(_t, _p, _k, from, to) {
    this.log.push(`breaker ${from}->${to}`);
  },
  budgetExhausted() {},
  notRetryable() {},
  failover(target, endpoint, reason) {
    this.log.push(`failover ${target} ${endpoint} ${reason}`);
  },
  ejected(target, endpoint, ms) {
    this.log.push(`ejected ${target} ${endpoint} ${ms}`);
  },
  hedge(target, outcome) {
    this.log.push(`hedge ${target} ${outcome}`);
  },
};

const req = (method = "GET"): ProxyRequest => ({ method, path: "/x", query: "", headers: new HeaderList(), body: null });
const ctx = (): CallContext => ({ appId: "orders", namespace: "default", signal: new AbortController().signal });

const retryPolicy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({
  name: "r",
  policy: "constant",
  duration: 100,
  initialInterval: 500,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxInterval: 60_000,
  maxElapsedTime: 0,
  maxRetries: 2,
  httpStatusCodes: null,
  gRPCStatusCodes: null,
  retryNonIdempotent: false,
  onlyNeverSent: false,
  ...p,
});

/** A terminal answering from a script, one entry per attempt: a status or an error. */
function scripted(script: (number | SidecarError)[]): { call: Call; attempts: () => number; seen: (Endpoint | undefined)[] } {
  let n = 0;
  const seen: (Endpoint | undefined)[] = [];
  const call: Call = async (_req, c) => {
    seen.push(c.endpoint);
    const step = script[Math.min(n++, script.length - 1)]!;
    if (step instanceof SidecarError) throw step;
    return new Response(null, { status: step });
  };
  return { call, attempts: () => n, seen };
}

/** Lets the event loop run pending promise callbacks between clock steps. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe("retry layer", () => {
  it("retries a GET per policy, waiting the backoff on the fake clock", async () => {
    const { clock, advance } = fakeClock();
    const t = scripted([503, 503, 200]);
    const layer = retryLayer({ target: "orders", policy: retryPolicy(), budget: new RetryBudget(DEFAULT_BUDGET, clock.now), events, clock, random: () => 0.5, replayCap: 65536 });
    const p = layer(t.call)(req("GET"), ctx());
    await settle();
    expect(t.attempts()).toBe(1);
    advance(99);
    await settle();
    expect(t.attempts()).toBe(1);
    advance(1);
    await settle();
    expect(t.attempts()).toBe(2);
    advance(100);
    expect((await p).status).toBe(200);
    expect(t.attempts()).toBe(3);
  });

  it("retries a WebSocket handshake before its 101 like a GET, while another stream body is not replayed", async () => {
    const { clock, advance } = fakeClock();
    const deps = { target: "orders", policy: retryPolicy(), budget: new RetryBudget(DEFAULT_BUDGET, clock.now), events, clock, random: () => 0.5, replayCap: 65536 };
    const tunnel = (upgrade: boolean): ProxyRequest => ({
      ...req("GET"),
      headers: upgrade ? HeaderList.of({ upgrade: "websocket" }) : new HeaderList(),
      body: new ReadableStream<Uint8Array>(),
    });
    const handshake = scripted([503, 200]);
    const p = retryLayer(deps)(handshake.call)(tunnel(true), ctx());
    await settle();
    advance(100);
    expect((await p).status).toBe(200);
    expect(handshake.attempts()).toBe(2);
    const stream = scripted([503, 200]);
    expect((await retryLayer(deps)(stream.call)(tunnel(false), ctx())).status).toBe(503);
    expect(stream.attempts()).toBe(1);
  });

  it("does not repeat a POST that reached the app, but moves one that never did", async () => {
    const { clock, advance } = fakeClock();
    const deps = { target: "orders", policy: retryPolicy(), budget: new RetryBudget(DEFAULT_BUDGET, clock.now), events, clock, random: () => 0.5, replayCap: 65536 };
    const reached = scripted([503, 200]);
    expect((await retryLayer(deps)(reached.call)(req("POST"), ctx())).status).toBe(503);
    expect(reached.attempts()).toBe(1);
    const refused = scripted([invokeError("peer_unreachable", "orders", "refused", { neverSent: true }), 200]);
    const p = retryLayer(deps)(refused.call)(req("POST"), ctx());
    await settle();
    advance(100);
    expect((await p).status).toBe(200);
    expect(refused.attempts()).toBe(2);
  });

  it("gives the app's last answer after maxRetries", async () => {
    const { clock, advance } = fakeClock();
    const t = scripted([500]);
    const p = retryLayer({ target: "orders", policy: retryPolicy({ maxRetries: 2 }), budget: new RetryBudget(DEFAULT_BUDGET, clock.now), events, clock, random: () => 0.5, replayCap: 65536 })(t.call)(req(), ctx());
    for (let i = 0; i < 5; i++) {
      await settle();
      advance(100);
    }
    expect((await p).status).toBe(500);
    expect(t.attempts()).toBe(3);
  });
});

describe("deadline layer", () => {
  it("fails the whole call with deadline_exceeded when its budget is spent", async () => {
    const { clock, advance } = fakeClock();
    const never: Call = (_r, c) => new Promise((_, reject) => c.signal.addEventListener("abort", () => reject(c.signal.reason)));
    const p = deadlineLayer(1000, clock)(never)(req(), ctx()).catch((e: unknown) => e);
    advance(999);
    await settle();
    advance(1);
    const e = (await p) as SidecarError;
    expect(e.reason).toBe("deadline_exceeded");
  });

  it("takes the caller's meshlet-timeout-ms when it ends before the policy's deadline, or alone", async () => {
    const { clock, advance } = fakeClock();
    const seen: (number | undefined)[] = [];
    const never: Call = (_r, c) => {
      seen.push(c.deadlineAt);
      return new Promise((_, reject) => c.signal.addEventListener("abort", () => reject(c.signal.reason)));
    };
    const asking = (ms: string): ProxyRequest => ({ ...req(), headers: HeaderList.of({ "meshlet-timeout-ms": ms }) });
    for (const [policy, asked, ends, why] of [
      [null, "300", 300, "the caller's meshlet-timeout-ms: 300 ms"],
      [1000, "300", 300, "the caller's meshlet-timeout-ms: 300 ms"],
      [200, "300", 200, "overall deadline 200 ms"],
    ] as const) {
      const start = clock.now();
      const p = deadlineLayer(policy, clock)(never)(asking(asked), ctx()).catch((e: unknown) => e);
      await settle();
      expect(seen.at(-1)).toBe(start + ends);
      advance(ends - 1);
      await settle();
      advance(1);
      const e = (await p) as SidecarError;
      expect([e.reason, e.message]).toEqual(["deadline_exceeded", expect.stringContaining(`context deadline exceeded (${why})`)]);
    }
  });

  it("answers a meshlet-timeout-ms that is not a whole number of milliseconds with 400 malformed_request", async () => {
    const call = deadlineLayer(null)(async () => new Response("ok"));
    for (const bad of ["0", "-5", "1.5", "soon", "9999999999"]) {
      const e = (await call({ ...req(), headers: HeaderList.of({ "meshlet-timeout-ms": bad }) }, ctx()).catch((x: unknown) => x)) as SidecarError;
      expect(e.reason).toBe("malformed_request");
    }
    expect((await call(req(), ctx())).status).toBe(200);
  });
});

describe("circuit-breaker layer", () => {
  it("opens after the trip expression holds, answers breaker_open at once, recovers after its timeout", async () => {
    const { clock, advance } = fakeClock();
    const policy = { name: "cb", maxRequests: 1, interval: 0, timeout: 5000, trip: "consecutiveFailures > 1", tripFn: compileTrip("consecutiveFailures > 1") };
    const layer = breakerLayer("orders", policy, 100, new BreakerRegistry(clock.now), events);
    const t = scripted([500, 500, 200]);
    const call = layer(t.call);
    expect((await call(req(), ctx())).status).toBe(500);
    expect((await call(req(), ctx())).status).toBe(500);
    const open = (await call(req(), ctx()).catch((e: unknown) => e)) as SidecarError;
    expect(open.reason).toBe("breaker_open");
    expect(t.attempts()).toBe(2);
    advance(5000);
    expect((await call(req(), ctx())).status).toBe(200);
    expect(events.log).toContain("breaker half-open->closed");
  });
});

describe("the OUTBOUND stack, composed from the stack file", () => {
  const POLICY = `kind: Resiliency
metadata: { name: t }
spec:
  policies:
    timeouts: { quick: 300ms }
    retries:
      twice: { policy: constant, duration: 50ms, maxRetries: 2 }
  targets:
    apps:
      orders: { timeout: quick, retry: twice, deadline: 2s }
`;

  function deps(clock: ReturnType<typeof fakeClock>["clock"], eps: Endpoint[]): StackDeps {
    const resolver: Resolver = {
      name: "fake",
      resolve: async () => eps,
      register: async () => {},
      deregister: async () => {},
      evict: () => {},
      close: async () => {},
    };
    const dialer: Dialer = { dial: () => Promise.reject(new Error("unused")), close: async () => {} };
    return {
      self: { appId: "me", namespace: "default" },
      tracing: NO_TRACING,
      metrics: null,
      dialer,
      peerDialer: dialer,
      resolver,
      maxBodySize: 1 << 20,
      app: null,
      tryTimeoutMs: 60_000,
      clock,
      random: () => 0.3,
      events,
      breakers: new BreakerRegistry(clock.now),
      replayCap: 65536,
      observeResolve: () => {},
      appHealth: null,
    };
  }

  it("moves a never-sent attempt to the other instance, retries a timed-out one, all on the fake clock", async () => {
    const { clock, advance } = fakeClock();
    const a = endpoint("127.0.0.1", 1);
    const b = endpoint("127.0.0.1", 2);
    const set = mergeDocs(parseResiliencyText(POLICY, "p.yaml").docs, "me");
    const plan = { target: "orders", policy: resolvePolicy(set, "orders", 60_000), budget: new RetryBudget(DEFAULT_BUDGET, clock.now) };
    let n = 0;
    const seen: string[] = [];
    // Attempt 1: refused by its endpoint (never sent); attempt 2: hangs until the try timeout;
    // attempt 3: answers.
    const terminal: Call = (_r, c) => {
      n++;
      seen.push(c.endpoint!.key);
      if (n === 1) return Promise.reject(invokeError("peer_unreachable", "orders", "refused", { neverSent: true }));
      if (n === 2) return new Promise((_, reject) => c.signal.addEventListener("abort", () => reject(c.signal.reason)));
      return Promise.resolve(new Response("ok"));
    };
    const call = compose(OUTBOUND, deps(clock, [a, b]), plan, terminal);
    const p = call(req("GET"), ctx());
    await settle();
    // The refused attempt went elsewhere inside the endpoint step, not through a retry.
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    advance(300); // the try timeout of attempt 2
    await settle();
    advance(50); // retry backoff
    await settle();
    const res = await p;
    expect(await res.text()).toBe("ok");
    expect(n).toBe(3);
  });
});
