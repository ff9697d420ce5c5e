// The listeners' real step lists from proxy/stack.ts, composed in-process over a scripted
// target: what each step does shows in what reaches the target and what the client gets back.

import { NO_TRACING } from "../../observability/tracing.ts";
import { describe, expect, it } from "vitest";
import { EDGE, explainListeners, INBOUND } from "../stack.ts";
import { composeEdge } from "./context.ts";
import { dispatchToTarget } from "./api-steps.ts";
import { dispatchToApp } from "./inbound-steps.ts";
import type { ApiDeps } from "../api.ts";
import type { SidecarConfig } from "../config.ts";
import type { Call, ProxyRequest } from "../../core/call.ts";
import { HeaderList } from "../../core/header-list.ts";
import type { Incoming } from "../../core/incoming.ts";
import { silentLogger, throttledInfo } from "../../core/log.ts";
import { invokeError } from "../../core/errors.ts";
import { EMPTY_POLICY_SET } from "../../resiliency/policy/types.ts";
import { MemoryGuard } from "../memory-guard.ts";
import { fakeClock } from "../../core/fake-clock.ts";

const cfg: SidecarConfig = {
  appId: "me",
  namespace: "default",
  listenAddresses: ["127.0.0.1"],
  httpPort: 0,
  internalHost: "127.0.0.1",
  internalPort: 0,
  app: null,
  appProtocol: "http",
  maxBodySize: 10,
  tryTimeoutMs: 1000,
  apiToken: "tok",
  peerSecret: "s".repeat(64),
  gracefulShutdownMs: 0,
  components: [],
  policies: EMPTY_POLICY_SET,
  resourcesPaths: [],
  metricsPort: null,
  runtimeVersion: "test",
};

function incoming(target: string, headers: Record<string, string>, body: Uint8Array | null = null, method = "POST"): Incoming {
  return { method, target, headers: HeaderList.of(headers), body, contentLength: body ? body.byteLength : null, chunked: false, signal: new AbortController().signal, peer: { address: "127.0.0.1", port: 1 } };
}

/** A guard over a scripted RSS: set `rss.mb`, then `guard.sample()`. */
function scriptedGuard() {
  const rss = { mb: 100 };
  const guard = new MemoryGuard({ limitBytes: 200 * 1024 ** 2, clock: fakeClock().clock, rss: () => rss.mb * 1024 ** 2 });
  return { rss, guard };
}

function apiDeps(target: Call, memory: MemoryGuard | null = null): ApiDeps {
  return {
    cfg,
    tracing: NO_TRACING,
    apiLogging: null,
    metrics: null,
    state: { ready: true, outboundReady: true, shuttingDown: false, notReady: null, extended: new Map() },
    log: silentLogger,
    logFailure: throttledInfo(silentLogger),
    hostname: "host",
    hostIp: "10.9.9.9",
    target: () => target,
    shutdown: () => {},
    explain: () => "",
    stateApi: { stores: () => new Map(), appId: "me", maxBodySize: 10 },
    components: { current: { stores: new Map(), secretStores: new Map(), listed: [] } },
    memory,
  };
}

describe("the EDGE list (API port)", () => {
  it("checks the token before routing errors, serves API endpoints itself, and hands a cleaned request to the target", async () => {
    const seen: ProxyRequest[] = [];
    const d = apiDeps(async (req) => {
      seen.push(req);
      return new Response("from app", { status: 201 });
    });
    const handle = composeEdge(EDGE, d, dispatchToTarget(d));
    // No token: 401 even for a request that would be a routing error.
    expect((await handle(incoming("/v1.0/invoke/a.b.c/method/x", {}))).status).toBe(401);
    // Health is exempt and answered by the sidecar, not the target.
    expect((await handle(incoming("/v1.0/healthz", {}, null, "GET"))).status).toBe(204);
    const res = await handle(
      incoming("/v1.0/invoke/orders/method/a/../b?q=1", { "dapr-api-token": "tok", "dapr-caller-app-id": "forged", connection: "x-secret", "x-secret": "1", "x-keep": "yes" }, new Uint8Array(3)),
    );
    expect(res.status).toBe(201);
    const sent = seen[0]!;
    expect([sent.path, sent.query]).toEqual(["/b", "?q=1"]);
    expect(sent.headers.get("dapr-caller-app-id")).toBeNull();
    expect(sent.headers.get("x-secret")).toBeNull();
    expect(sent.headers.get("x-keep")).toBe("yes");
    expect(sent.headers.get("x-forwarded-for")).toBe("10.9.9.9");
    expect(res.headers.get("traceparent")).toBe(sent.headers.get("traceparent"));
  });

  it("turns every failure into Dapr's JSON with a reason and the call's traceparent", async () => {
    const d = apiDeps(() => Promise.reject(invokeError("app_id_not_found", "orders", "couldn't find service: orders")));
    const handle = composeEdge(EDGE, d, dispatchToTarget(d));
    const res = await handle(incoming("/v1.0/invoke/orders/method/x", { "dapr-api-token": "tok" }));
    expect([res.status, res.headers.get("meshlet-reason")]).toEqual([500, "app_id_not_found"]);
    expect(res.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const big = await handle(incoming("/v1.0/invoke/orders/method/x", { "dapr-api-token": "tok" }, new Uint8Array(11)));
    expect(big.headers.get("meshlet-reason")).toBe("body_too_large");
  });

  it("refuses invocations and state calls with 503 memory_pressure while the memory guard sheds, and keeps serving health and metadata", async () => {
    const { rss, guard } = scriptedGuard();
    let reached = 0;
    const d = apiDeps(async () => (reached++, new Response("ok")), guard);
    const handle = composeEdge(EDGE, d, dispatchToTarget(d));
    const invoke = () => handle(incoming("/v1.0/invoke/orders/method/x", { "dapr-api-token": "tok" }));
    expect((await invoke()).status).toBe(200);
    rss.mb = 200;
    guard.sample();
    const refused = await invoke();
    expect([refused.status, refused.headers.get("meshlet-reason")]).toEqual([503, "memory_pressure"]);
    const body = (await refused.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_MEMORY_PRESSURE");
    expect(body.message).toBe("failed to invoke, id: orders, err: this sidecar is over its memory limit (200 MiB) and refuses new calls until it is back under 180 MiB");
    const state = await handle(incoming("/v1.0/state/store", { "dapr-api-token": "tok" }, new Uint8Array(2)));
    expect([state.status, state.headers.get("meshlet-reason")]).toEqual([503, "memory_pressure"]);
    expect((await handle(incoming("/v1.0/healthz", {}, null, "GET"))).status).toBe(204);
    expect((await handle(incoming("/v1.0/metadata", { "dapr-api-token": "tok" }, null, "GET"))).status).toBe(200);
    // The token is still checked first: a caller without it learns nothing of the sidecar's memory.
    expect((await handle(incoming("/v1.0/invoke/orders/method/x", {}))).status).toBe(401);
    expect(guard.refused).toBe(2);
    // Between the limit and the resume mark it still sheds; under the mark, calls go through again.
    rss.mb = 185;
    guard.sample();
    expect((await invoke()).status).toBe(503);
    rss.mb = 150;
    guard.sample();
    expect((await invoke()).status).toBe(200);
    expect(reached).toBe(2);
  });
});

describe("the INBOUND list (internal port)", () => {
  it("refuses callers without the peer secret first, then calls for another app, and stamps the caller for the app", async () => {
    const seen: ProxyRequest[] = [];
    const gate = { draining: false, seen: 0 };
    const { rss, guard } = scriptedGuard();
    const d = { cfg, tracing: NO_TRACING, metrics: null, mtls: false, acl: () => null, logFailure: throttledInfo(silentLogger), toApp: (async (req) => (seen.push(req), new Response("ok"))) as Call, gate, memory: guard };
    const handle = composeEdge(INBOUND, d, dispatchToApp(d));
    const token = { "meshlet-peer-token": "s".repeat(64) };
    expect((await handle(incoming("/x", { "dapr-callee-app-id": "other" }))).headers.get("meshlet-reason")).toBe("peer_unauthenticated");
    expect((await handle(incoming("/x", { ...token, "dapr-callee-app-id": "other" }))).headers.get("meshlet-reason")).toBe("wrong_target");
    expect((await handle(incoming("/../x", { ...token, "dapr-callee-app-id": "me" }))).headers.get("meshlet-reason")).toBe("invalid_method");
    const ok = await handle(incoming("/x", { ...token, "dapr-callee-app-id": "me", "dapr-caller-app-id": "checkout", "dapr-caller-namespace": "default" }));
    expect(ok.status).toBe(200);
    const h = seen[0]!.headers;
    expect([h.get("dapr-caller-app-id"), h.get("dapr-callee-app-id"), h.get("meshlet-peer-token")]).toEqual(["checkout", "me", null]);
    expect(h.get("traceparent")).not.toBeNull();
    // Over its memory limit, a sidecar refuses a peer's call before the app, marked never delivered: the caller tries another instance.
    rss.mb = 250;
    guard.sample();
    const heavy = await handle(incoming("/x", { ...token, "dapr-callee-app-id": "me" }));
    expect([heavy.status, heavy.headers.get("meshlet-reason"), heavy.headers.get("meshlet-not-delivered")]).toEqual([503, "memory_pressure", "1"]);
    rss.mb = 100;
    guard.sample();
    // A stopping sidecar refuses new calls before the app, marked never delivered.
    gate.draining = true;
    const late = await handle(incoming("/x", { ...token, "dapr-callee-app-id": "me" }));
    expect([late.status, late.headers.get("meshlet-reason"), late.headers.get("meshlet-not-delivered")]).toEqual([503, "shutting_down", "1"]);
    expect(seen).toHaveLength(1);
    // Every call from a proven peer counts (the stop waits until they go quiet).
    expect(gate.seen).toBe(5);
  });

  it("explains both lists with each step's own words", () => {
    const text = explainListeners();
    for (const s of [...EDGE, ...INBOUND]) expect(text).toContain(`${s.name}: ${s.describe}`);
  });
});
