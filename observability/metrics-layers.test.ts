// The metric recorders on a real prom-client registry: Dapr's label values, pathMatching and the
// cardinality rules, sidecar-made errors by reason, and invocations that fail before any answer.

import { describe, expect, it } from "vitest";
import { Metrics } from "../core/metrics.ts";
import { DEFAULT_METRICS, HttpMetrics, type MetricsSpec } from "./http-metrics.ts";
import { compilePathPatterns } from "./path-patterns.ts";
import { apiMetrics, appMetrics, invocationMetrics } from "./metrics-layers.ts";
import { newEdgeContext } from "../proxy/edge/context.ts";
import { HeaderList } from "../core/header-list.ts";
import { errorResponse, invokeError } from "../core/errors.ts";
import { newCallContext, type ProxyRequest } from "../core/call.ts";
import type { Incoming } from "../core/incoming.ts";

function setup(spec: Partial<MetricsSpec> = {}) {
  const registry = new Metrics().registry;
  const m = new HttpMetrics(registry, { ...DEFAULT_METRICS, ...spec }, "shop");
  return { m, text: () => registry.metrics() };
}

const incoming = (method: string, target: string, headers: Record<string, string> = {}): Incoming => ({
  method,
  target,
  headers: HeaderList.of(headers),
  body: null,
  // As the request parser sets it from the header.
  contentLength: headers["content-length"] === undefined ? null : Number(headers["content-length"]),
  chunked: false,
  signal: new AbortController().signal,
  peer: { address: "127.0.0.1", port: 1 },
});

/** One request through the API recorder, with the route the ROUTE step would have set. */
async function api(m: HttpMetrics, path: string, res: Response, method = "GET") {
  const ctx = newEdgeContext();
  const handle = apiMetrics(m)(async () => {
    ctx.route = { kind: "invoke", appId: "orders", namespace: "default", path, query: "", viaAuth: false };
    return res;
  });
  await handle(incoming(method, `/v1.0/invoke/orders/method${path}`, { "content-length": "3" }), ctx);
}

describe("the API port's dapr_http_server_* families", () => {
  it("label an invocation by app-id, verb, path as sent and status, and count request and response sizes", async () => {
    const { m, text } = setup();
    await api(m, "/orders/42", new Response("hello"), "POST");
    const t = await text();
    expect(t).toContain('dapr_http_server_request_count{app_id="shop",method="POST",path="/v1.0/invoke/orders/method/orders/42"} 1');
    expect(t).toContain('dapr_http_server_response_count{app_id="shop",method="POST",path="/v1.0/invoke/orders/method/orders/42",status="200"} 1');
    expect(t).toMatch(/dapr_http_server_latency_bucket\{le="1",app_id="shop",method="POST",path="\/v1.0\/invoke\/orders\/method\/orders\/42",status="200"\} 1/);
    expect(t).toContain('dapr_http_server_request_bytes_sum{app_id="shop"} 3');
  });

  it("collapse paths with pathMatching; without a match: as sent, or `_` with increasedCardinality false; verbs dropped with excludeVerbs", async () => {
    const pathMatching = compilePathPatterns(["/orders/{orderID}"]);
    const high = setup({ pathMatching });
    for (const id of ["1", "2", "3"]) await api(high.m, `/orders/${id}`, new Response("x"));
    await api(high.m, "/stock/9", new Response("x"));
    let t = await high.text();
    expect(t).toContain('dapr_http_server_request_count{app_id="shop",method="GET",path="/v1.0/invoke/orders/method/orders/{orderID}"} 3');
    expect(t).toContain('path="/v1.0/invoke/orders/method/stock/9"} 1');
    const low = setup({ pathMatching, increasedCardinality: false, excludeVerbs: true });
    await api(low.m, "/orders/1", new Response("x"));
    await api(low.m, "/stock/9", new Response("x"));
    t = await low.text();
    expect(t).toContain('dapr_http_server_request_count{app_id="shop",method="",path="/v1.0/invoke/orders/method/orders/{orderID}"} 1');
    expect(t).toContain('dapr_http_server_request_count{app_id="shop",method="",path="_"} 1');
  });

  it("fold paths past 1,000 distinct values into _other, so a client cannot grow the registry", async () => {
    const { m, text } = setup();
    for (let i = 0; i < 1_200; i++) await api(m, `/item/${i}`, new Response("x"));
    const t = await text();
    expect(t).toContain('path="_other"} 200');
    expect(t.split("\n").filter((l) => l.startsWith("dapr_http_server_request_count{")).length).toBe(1_001);
  });

  it("count answers the sidecar made by meshlet-reason, not the app's errors", async () => {
    const { m, text } = setup();
    await api(m, "/a", errorResponse(invokeError("app_id_not_found", "orders", "no such app")));
    await api(m, "/a", new Response("boom", { status: 500 }));
    // A header an app wrote, naming no reason of meshlet's (an inherited property included).
    await api(m, "/b", new Response("ok", { headers: { "meshlet-reason": "toString" } }));
    const t = await text();
    expect(t).toContain('meshlet_sidecar_errors_total{reason="app_id_not_found",listener="api"} 1');
    expect(t).not.toMatch(/meshlet_sidecar_errors_total\{reason="(?!app_id_not_found)/);
    expect(t).toContain('dapr_http_server_response_count{app_id="shop",method="GET",path="/v1.0/invoke/orders/method/a",status="500"} 1');
    // An app-id that exists nowhere: its made-up path takes no path value of its own.
    expect(t).toContain('dapr_http_server_response_count{app_id="shop",method="GET",path="_",status="500"} 1');
  });

  it("keep the path values for real routes during a flood of made-up app-ids", async () => {
    const { m, text } = setup();
    for (let i = 0; i < 2_000; i++) await api(m, `/x${i}`, errorResponse(invokeError("app_id_not_found", "orders", "no such app")));
    await api(m, "/real", new Response("ok"));
    const t = await text();
    expect(t).toContain('dapr_http_server_request_count{app_id="shop",method="GET",path="_"} 2000');
    expect(t).toContain('path="/v1.0/invoke/orders/method/real"} 1');
  });
});

describe("invocation and app families", () => {
  const req = (path: string): ProxyRequest => ({ method: "PUT", path, query: "", headers: HeaderList.of({ "content-length": "4" }), body: new Uint8Array(4) });
  const ctx = () => newCallContext("orders", "default", new AbortController().signal);

  it("count a call that failed before any answer under the status its error maps to", async () => {
    const { m, text } = setup();
    const call = invocationMetrics(m, "orders")(async () => {
      throw invokeError("peer_unreachable", "orders", "refused");
    });
    await expect(call(req("/x"), ctx())).rejects.toThrow();
    await invocationMetrics(m, "orders")(async () => new Response("ok"))(req("/x"), ctx());
    const t = await text();
    expect(t).toContain('dapr_runtime_service_invocation_req_sent_total{app_id="shop",dst_app_id="orders",type="unary"} 2');
    expect(t).toContain('dapr_runtime_service_invocation_res_recv_total{app_id="shop",src_app_id="orders",status="500",type="unary"} 1');
    expect(t).toContain('dapr_runtime_service_invocation_res_recv_total{app_id="shop",src_app_id="orders",status="200",type="unary"} 1');
    expect(t).toContain('meshlet_invocation_errors_total{app_id="shop",dst_app_id="orders",reason="peer_unreachable"} 1');
    expect(t).toMatch(/dapr_runtime_service_invocation_res_recv_latency_ms_count\{app_id="shop",src_app_id="orders",status="200"\} 1/);
  });

  it("record the request to the app with its path rule, sizes and status", async () => {
    const { m, text } = setup({ pathMatching: compilePathPatterns(["/carts/{id}"]) });
    await appMetrics(m)(async () => new Response("hello world", { headers: { "content-length": "11" } }))(req("/carts/7"), ctx());
    const t = await text();
    const labels = 'app_id="shop",method="PUT",path="/carts/{id}",status="200"';
    expect(t).toContain(`dapr_http_client_completed_count{${labels}} 1`);
    expect(t).toContain(`dapr_http_client_sent_bytes_sum{${labels}} 4`);
    expect(t).toContain(`dapr_http_client_received_bytes_sum{${labels}} 11`);
    expect(t).toContain(`dapr_http_client_roundtrip_latency_count{${labels}} 1`);
  });
});
