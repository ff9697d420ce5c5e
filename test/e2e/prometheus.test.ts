// Dapr's metrics scraped by a real Prometheus: two sidecars (caller and callee) serve /metrics,
// Prometheus scrapes both every second, and PromQL through its HTTP API returns the request
// counts, collapsed paths, error reasons and retries this test caused.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, killAll, startSidecar, tempFile, tempHome, waitFor } from "../helpers.ts";
import { prometheusBinary, startPrometheus, type Prometheus } from "../prometheus.ts";

const have = prometheusBinary() !== null;
// CI installs Debian's prometheus (.ci/run): there the test must run, not skip.
if (!have && process.env.CI) throw new Error("prometheus is not installed (apt-get install prometheus)");

afterAll(killAll);

describe.skipIf(!have)(`Dapr's metrics in a real Prometheus${have ? "" : " (skipped: no prometheus binary)"}`, () => {
  let prom: Prometheus;
  let callerUrl = "";
  const one = async (q: string) => (await prom.query(q))[0]?.value ?? NaN;

  beforeAll(async () => {
    const home = tempHome();
    const config = tempFile(
      "config.yaml",
      "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: m}\nspec:\n  metrics:\n    http:\n      pathMatching:\n        - /orders/{orderID}\n",
    );
    const resources = tempFile(
      "resiliency.yaml",
      "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec:\n  policies:\n    retries:\n      twice: {policy: constant, duration: 10ms, maxRetries: 2}\n  targets:\n    apps:\n      inventory: {retry: twice}\n",
    );
    const calleeMetrics = await freePort();
    const callerMetrics = await freePort();
    await startSidecar({ appId: "inventory", home, echo: true, args: ["-c", config, "-M", String(calleeMetrics)] });
    const caller = await startSidecar({ appId: "storefront", home, args: ["-c", config, "-M", String(callerMetrics), "--resources-path", resources.replace(/\/[^/]+$/, "")] });
    callerUrl = caller.url;
    prom = await startPrometheus({ callee: calleeMetrics, caller: callerMetrics });
  }, 60_000);

  it("counts requests by collapsed path, status, caller and callee, as the test made them", async () => {
    for (let i = 0; i < 20; i++) expect((await fetch(`${callerUrl}/v1.0/invoke/inventory/method/orders/${i}`)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await fetch(`${callerUrl}/v1.0/invoke/nobody/method/x`)).status).toBe(500);
    // Fails twice with 503, then answers: two retries, one 200.
    expect((await fetch(`${callerUrl}/v1.0/invoke/inventory/method/flaky?fail=2&key=p${Date.now()}`, { method: "GET" })).status).toBe(200);

    const served = 'dapr_http_server_response_count{app_id="storefront",path="/v1.0/invoke/inventory/method/orders/{orderID}",status="200"}';
    // Each sidecar is scraped on its own schedule: wait until both scrapes include the last call.
    const recv = 'sum(dapr_runtime_service_invocation_req_recv_total{app_id="inventory",src_app_id="storefront"})';
    await waitFor("Prometheus to scrape the calls", async () => (await one(`sum(${served})`)) === 20 && (await one(recv)) === 23, 20_000);
    expect(await one('sum(meshlet_sidecar_errors_total{job="caller",reason="app_id_not_found",listener="api"})')).toBe(5);
    expect(await one('sum(dapr_runtime_service_invocation_req_sent_total{app_id="storefront",dst_app_id="inventory"})')).toBe(21);
    expect(await one('sum(dapr_runtime_service_invocation_res_recv_total{app_id="storefront",src_app_id="inventory",status="200"})')).toBe(21);
    // The callee saw every attempt, retries included, from the caller its certificate names.
    expect(await one(recv)).toBe(23);
    expect(await one('sum(dapr_runtime_service_invocation_res_sent_total{app_id="inventory",dst_app_id="storefront",status="503"})')).toBe(2);
    expect(await one('sum(dapr_http_client_completed_count{app_id="inventory",path="/orders/{orderID}",status="200"})')).toBe(20);
    expect(await one('sum(meshlet_retries_total{target="inventory",cause="status 503"})')).toBe(2);
    expect(await one('sum(dapr_resiliency_activations_total{app_id="storefront",policy="retry"})')).toBe(2);
    // The caller's live view: one instance of inventory, answering, over pooled (30 s) connections.
    expect(await one('sum(meshlet_endpoints{job="caller",app_id="inventory",state="healthy"})')).toBe(1);
    expect(await one('sum(meshlet_pool_connections{job="caller",pool="peer"})')).toBeGreaterThanOrEqual(1);
    // The callee's app connections idle out after 3 s: both of its series are there, whatever their value.
    expect(await one('count(meshlet_pool_connections{job="callee",pool="app"})')).toBe(2);
  }, 40_000);

  it("answers latency quantiles from the ms histograms", async () => {
    const p50 = await one('histogram_quantile(0.5, sum by (le) (dapr_http_server_latency_bucket{app_id="storefront"}))');
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThan(1000);
    const series = await prom.query('count by (__name__) ({__name__=~"dapr_http_server_.*"})');
    expect(series.map((s) => s.metric.__name__).sort()).toEqual(
      expect.arrayContaining(["dapr_http_server_latency_bucket", "dapr_http_server_request_count", "dapr_http_server_response_count"]),
    );
  });
});
