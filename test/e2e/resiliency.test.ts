// Resiliency end to end over real sockets: exact attempt counts per method against a flaky app,
// POSTs never duplicated, never-sent POSTs retried, big bodies not replayed, the retry budget
// under load, breakers, stream timeouts, hot reload and explain.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import autocannon from "autocannon";
import { freePort, killAll, MESHLET, runRecord, sleep, spawnProc, startSidecar, tempHome, waitFor, type Sidecar, expectOutput } from "../helpers.ts";

let home: string;
let resources: string;
let caller: Sidecar;
let flaky: Sidecar;
let metricsPort: number;

const POLICY = (flakyRetries: number) => `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: e2e
spec:
  policies:
    timeouts:
      quick: 500ms
    retries:
      three:
        policy: constant
        duration: 10ms
        maxRetries: ${flakyRetries}
      many:
        policy: constant
        duration: 1ms
        maxRetries: 5
    circuitBreakers:
      cb:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures > 2
  targets:
    apps:
      flaky:
        retry: three
        timeout: quick
      stormy:
        retry: many
      fragile:
        circuitBreaker: cb
`;

async function attempts(key: string): Promise<number> {
  const r = await fetch(`${flaky.url}/v1.0/invoke/flaky/method/count?key=${key}`);
  return ((await r.json()) as { attempts: number }).attempts;
}

let n = 0;
const key = () => `k${++n}-${Date.now()}`;

beforeAll(async () => {
  home = tempHome();
  resources = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-res-"));
  fs.writeFileSync(path.join(resources, "resiliency.yaml"), POLICY(3));
  flaky = await startSidecar({ appId: "flaky", home, echo: true });
  const stormy = await startSidecar({ appId: "stormy", home, echo: true });
  const fragile = await startSidecar({ appId: "fragile", home, echo: true });
  const dead = await freePort();
  // A static map so the test controls endpoints: flaky has a dead address next to the live one.
  const config = path.join(resources, "..", `${path.basename(resources)}-config.yaml`);
  fs.writeFileSync(
    config,
    `kind: Configuration
spec:
  nameResolution:
    component: static
    configuration:
      apps:
        flaky: ["127.0.0.1:${dead}", "127.0.0.1:${runRecord(home, "flaky").internalPort}"]
        stormy: ["127.0.0.1:${runRecord(home, "stormy").internalPort}"]
        fragile: ["127.0.0.1:${runRecord(home, "fragile").internalPort}"]
`,
  );
  metricsPort = await freePort();
  caller = await startSidecar({ appId: "caller", home, args: ["-c", config, "--resources-path", resources, "-M", String(metricsPort)] });
  void stormy;
  void fragile;
});
afterAll(killAll);

describe("retries: exact attempts per method", () => {
  const call = (method: string, k: string, fail: number, extra: RequestInit & { headers?: Record<string, string> } = {}, status = 503) =>
    fetch(`${caller.url}/v1.0/invoke/flaky/method/flaky?key=${k}&fail=${fail}&status=${status}`, { method, ...extra });

  it("GET, PUT, DELETE, HEAD, OPTIONS: retried until success (1 + 2 retries)", async () => {
    for (const m of ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"]) {
      const k = key();
      const r = await call(m, k, 2, m === "PUT" ? { body: "x" } : {});
      expect([m, r.status]).toEqual([m, 200]);
      await r.arrayBuffer();
      expect([m, await attempts(k)]).toEqual([m, 3]);
    }
  });

  it("gives up after maxRetries and returns the app's last answer", async () => {
    const k = key();
    const r = await call("GET", k, 10);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ attempt: 4, failed: true });
    expect(await attempts(k)).toBe(4);
  });

  it("POST and PATCH that reached the app are not duplicated", async () => {
    for (const m of ["POST", "PATCH"]) {
      const k = key();
      const r = await call(m, k, 2, { body: '{"order":1}', headers: { "content-type": "application/json" } });
      expect(r.status).toBe(503);
      await r.arrayBuffer();
      expect([m, await attempts(k)]).toEqual([m, 1]);
    }
  });

  it("a POST with an Idempotency-Key is retried", async () => {
    const k = key();
    const r = await call("POST", k, 2, { body: "{}", headers: { "idempotency-key": k } });
    expect(r.status).toBe(200);
    expect(await attempts(k)).toBe(3);
  });

  it("honours Retry-After on a 503 before retrying", async () => {
    const k = key();
    const t0 = Date.now();
    const r = await fetch(`${caller.url}/v1.0/invoke/flaky/method/flaky?key=${k}&fail=1&retryAfter=1`);
    expect(r.status).toBe(200);
    expect(await attempts(k)).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it("4xx is not retried without matching", async () => {
    const k = key();
    const r = await call("GET", k, 2, {}, 404);
    expect(r.status).toBe(404);
    expect(await attempts(k)).toBe(1);
  });

  it("a POST that never reached a server is sent to another instance, exactly once", async () => {
    // The static map lists a dead address first; whichever the balancer picks, every POST must
    // arrive once (a refused connection is retried elsewhere, the body replayed from memory).
    for (let i = 0; i < 8; i++) {
      const k = key();
      const r = await call("POST", k, 0, { body: JSON.stringify({ i }), headers: { "content-type": "application/json" } });
      expect(r.status).toBe(200);
      expect(await attempts(k)).toBe(1);
    }
  });

  it("a 1 MB body is streamed, not buffered for replay, and not retried", async () => {
    const k = key();
    const body = crypto.randomBytes(1024 * 1024);
    const r = await fetch(`${caller.url}/v1.0/invoke/flaky/method/flaky?key=${k}&fail=2`, {
      method: "PUT",
      body,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(r.status).toBe(503);
    expect(r.headers.get("meshlet-retry")).toBe("not-retryable: body_too_large");
    expect(await attempts(k)).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/meshlet_request_not_retryable_total\{target="flaky",why="body_too_large"\} [1-9]/);
  });
});

describe("retry budget", () => {
  it("a 100% failing app under load gets at most 20% extra attempts plus 10/s", async () => {
    const k = key();
    const result = await autocannon({
      url: `${caller.url}/v1.0/invoke/stormy/method/flaky?key=${k}&fail=1000000`,
      connections: 10,
      amount: 300,
    });
    expect(result.non2xx).toBe(300);
    const r = await fetch(`${caller.url}/v1.0/invoke/stormy/method/count?key=${k}`);
    const seen = ((await r.json()) as { attempts: number }).attempts;
    // Without a budget: 300 x 6 = 1800 attempts. With it: 300 + 20% of 300 + 10/s x 10 s window.
    expect(seen).toBeGreaterThan(300);
    expect(seen).toBeLessThanOrEqual(300 + 60 + 100);
    const last = await fetch(`${caller.url}/v1.0/invoke/stormy/method/flaky?key=${k}&fail=1000000`);
    expect(last.headers.get("meshlet-reason")).toBe("retry_budget_exhausted");
    await expectOutput(caller, "retry budget exhausted");
  });
});

describe("circuit breaker", () => {
  it("opens after the trip expression holds, fails fast with 503 breaker_open, recovers through half-open", async () => {
    const k = key();
    const url = `${caller.url}/v1.0/invoke/fragile/method/flaky?key=${k}&fail=3&status=500`;
    for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(500);
    const open = await fetch(url);
    expect(open.status).toBe(503);
    expect(open.headers.get("meshlet-reason")).toBe("breaker_open");
    expect(await open.json()).toEqual({ errorCode: "ERR_DIRECT_INVOKE", message: "failed to invoke, id: fragile, err: circuit breaker is open" });
    const count = async () => ((await (await fetch(`${caller.url}/v1.0/invoke/fragile/method/count?key=${k}`)).json()) as { attempts: number }).attempts;
    expect(await count()).toBe(3);
    await sleep(1100);
    expect((await fetch(url)).status).toBe(200);
    expect(await count()).toBe(4);
    await expectOutput(caller, /circuit breaker state changed.*from=closed to=open/);
    await expectOutput(caller, /from=half-open to=closed/);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/dapr_resiliency_cb_state\{[^}]*target="app_fragile"[^}]*\} 0/);
  });
});

describe("timeouts", () => {
  it("a streaming response longer than the per-try timeout completes while data flows", async () => {
    const t0 = Date.now();
    const r = await fetch(`${caller.url}/v1.0/invoke/flaky/method/drip?n=12`);
    expect(await r.text()).toBe("x".repeat(12));
    expect(Date.now() - t0).toBeGreaterThan(1000);
  });

  it("a stream that stalls longer than the timeout is cut, never ended cleanly", async () => {
    const r = await fetch(`${caller.url}/v1.0/invoke/flaky/method/drip?n=3&stall=1`);
    await expect(r.text()).rejects.toThrow();
  });
});

describe("hot reload", () => {
  it("applies a valid change, rejects a broken one and keeps the old policy", async () => {
    const file = path.join(resources, "resiliency.yaml");
    fs.writeFileSync(file, POLICY(1));
    await waitFor("reload applied", async () => caller.output().includes("resiliency reloaded"));
    let k = key();
    await fetch(`${caller.url}/v1.0/invoke/flaky/method/flaky?key=${k}&fail=10`);
    expect(await attempts(k)).toBe(2);

    const before = caller.output().length;
    fs.writeFileSync(file, POLICY(1).replace("maxRetries: 1", "maxRetries: lots"));
    // The rejection is one line, then a line per problem: the output may arrive in two reads.
    await waitFor("reload rejected, with the problem", async () => /resiliency change rejected[^]*resiliency\.yaml:\d+: spec\.policies\.retries\.three\.maxRetries: expected an integer/.test(caller.output().slice(before)));
    k = key();
    await fetch(`${caller.url}/v1.0/invoke/flaky/method/flaky?key=${k}&fail=10`);
    expect(await attempts(k)).toBe(2);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/meshlet_resiliency_reload_total\{result="rejected"\} 1/);
    fs.writeFileSync(file, POLICY(3));
    await waitFor("reload applied again", async () => caller.output().slice(before).includes("resiliency reloaded"));
  });

  it("keeps breaker state for targets whose policy did not change", async () => {
    const k = key();
    const url = `${caller.url}/v1.0/invoke/fragile/method/flaky?key=${k}&fail=100&status=500`;
    for (let i = 0; i < 3; i++) await (await fetch(url)).arrayBuffer();
    expect((await fetch(url)).headers.get("meshlet-reason")).toBe("breaker_open");
    const before = caller.output().length;
    fs.writeFileSync(path.join(resources, "resiliency.yaml"), POLICY(2));
    await waitFor("reload applied", async () => caller.output().slice(before).includes("resiliency reloaded"));
    expect((await fetch(url)).headers.get("meshlet-reason")).toBe("breaker_open");
  });
});

describe("explain", () => {
  it("explains a named target over HTTP, step by step in stack order", async () => {
    const text = await (await fetch(`${caller.url}/v1.0-meshlet/explain?appId=flaky&method=orders&verb=POST`)).text();
    const steps = [...text.matchAll(/^\d\. ([a-z-]+):/gm)].map((m) => m[1]);
    expect(steps).toEqual(["metrics", "deadline", "retry", "hedge", "circuit-breaker", "endpoint", "attempt-span", "try-timeout"]);
    expect(text).toMatch(/retry: three: up to \d retries every 10ms.*\[target apps\.flaky\.retry -> three \(.*resiliency\.yaml:\d+\)\]/);
    expect(text).toMatch(/try-timeout: 500ms .*\[target apps\.flaky\.timeout -> quick/);
    expect(text).toContain("POST: retried only when it never reached the app, or when it carries an Idempotency-Key");
  });

  it("explains defaults and overrides offline from the CLI", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-explain-"));
    const cli = async (args: string[]) => {
      const p = spawnProc(MESHLET, args, { MESHLET_HOME: home });
      return { code: (await p.exited).code, out: p.output() };
    };
    const builtIn = await cli(["resiliency", "explain", "--app-id", "orders", "--verb", "POST"]);
    expect(builtIn.code).toBe(0);
    expect(builtIn.out).toContain("built-in DaprBuiltInServiceRetries");
    expect(builtIn.out).toContain("POST: retried only when it never reached a server");

    fs.writeFileSync(
      path.join(dir, "r.yaml"),
      "kind: Resiliency\nmetadata: {name: d}\nspec:\n  policies:\n    retries:\n      DefaultRetryPolicy: {maxRetries: 2, duration: 1s, retryNonIdempotent: true}\n    timeouts:\n      DefaultTimeoutPolicy: 3s\n",
    );
    const overridden = await cli(["resiliency", "explain", "-a", "orders", "--resources-path", dir, "-v", "POST", "-m", "neworder"]);
    expect(overridden.out).toMatch(/^POST orders\/neworder/);
    expect(overridden.out).toMatch(/DefaultRetryPolicy: up to 2 retries every 1s.*\[DefaultRetryPolicy \(.*r\.yaml:6\)\]/);
    expect(overridden.out).toMatch(/try-timeout: 3s .*\[DefaultTimeoutPolicy/);
    expect(overridden.out).toContain("POST: retried like any verb (retryNonIdempotent: true)");

    const live = await cli(["resiliency", "explain", "-a", "fragile", "--from", "caller"]);
    expect(live.out).toMatch(/circuit-breaker: cb: trips when "consecutiveFailures > 2"/);

    // A state store's calls: the default store's own policy falls back to the DefaultTimeoutPolicy.
    const store = await cli(["resiliency", "explain", "--component", "statestore", "--resources-path", dir]);
    expect(store.code).toBe(0);
    expect(store.out).toMatch(/^calls to component statestore \(state\.sqlite\)/);
    expect(store.out).toMatch(/3\. timeout: 3s per attempt  \[DefaultTimeoutPolicy \(.*r\.yaml:\d+\)\]/);
    const unknown = await cli(["resiliency", "explain", "--component", "nope", "--resources-path", dir]);
    expect([unknown.code, unknown.out.trim()]).toEqual([1, `❌  --component: no Component named nope in ${dir}`]);
  });

  it("validate exits non-zero with file:line on broken files", async () => {
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-bad-")), "bad.yaml");
    fs.writeFileSync(bad, "kind: Resiliency\nspec:\n  policies:\n    timeouts:\n      t: 5 min\n");
    const p = spawnProc(MESHLET, ["resiliency", "validate", bad], { MESHLET_HOME: home });
    expect((await p.exited).code).toBe(1);
    await expectOutput(p, `${bad}:5: spec.policies.timeouts.t: invalid duration "5 min"`);
    const good = spawnProc(MESHLET, ["resiliency", "validate", resources], { MESHLET_HOME: home });
    expect((await good.exited).code).toBe(0);
  });
});
