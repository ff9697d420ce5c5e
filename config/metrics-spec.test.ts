// spec.metrics as Dapr writes it: defaults, pathMatching, buckets, and file:line for each mistake.

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfiguration } from "./configuration.ts";
import { DAPR_LATENCY_BUCKETS_MS } from "../observability/http-metrics.ts";

function load(metrics: string) {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "metrics-")), "c.yaml");
  fs.writeFileSync(f, `kind: Configuration\nspec:\n${metrics}`);
  return { f, conf: () => loadConfiguration(f).metrics };
}

function problems(conf: () => unknown): string {
  try {
    conf();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

describe("spec.metrics", () => {
  it("defaults to Dapr's: on, its latency buckets, paths as sent, verbs kept", () => {
    const m = load("  tracing: {samplingRate: '0'}\n").conf();
    expect(m.enabled).toBe(true);
    expect(m.latencyBucketsMs).toEqual(DAPR_LATENCY_BUCKETS_MS);
    expect(m.increasedCardinality).toBe(true);
    expect(m.excludeVerbs).toBe(false);
    expect(m.pathMatching.size).toBe(0);
  });

  it("reads enabled, buckets, increasedCardinality, excludeVerbs and pathMatching", () => {
    const m = load(
      "  metrics:\n    enabled: false\n    recordErrorCodes: true\n    latencyDistributionBuckets: [5, 50, 500]\n    http:\n      increasedCardinality: false\n      excludeVerbs: true\n      pathMatching:\n        - /orders/{orderID}\n        - /orders/{orderID}/items\n        - /files/{rest...}\n",
    ).conf();
    expect(m).toMatchObject({ enabled: false, latencyBucketsMs: [5, 50, 500], increasedCardinality: false, excludeVerbs: true });
    expect(m.pathMatching.match("/orders/42")).toBe("/orders/{orderID}");
    expect(m.pathMatching.match("/orders/42/items")).toBe("/orders/{orderID}/items");
    expect(m.pathMatching.match("/files/a/b/c")).toBe("/files/{rest...}");
    expect(m.pathMatching.match("/orders")).toBeNull();
    expect(m.pathMatching.match("/orders//items")).toBeNull();
  });

  it("refuses regex rules, bad patterns, decreasing buckets and unknown fields, each with file:line", () => {
    const { f, conf } = load(
      "  metrics:\n    rules: [{name: dapr_http_server_request_count, labels: [{name: path, regex: {x: y}}]}]\n    latencyDistributionBuckets: [10, 5]\n    http:\n      pathMatching:\n        - orders/{id}\n        - /a/{x...}/b\n        - /c/x{id}\n      cardinality: low\n",
    );
    const msg = problems(conf);
    expect(msg).toContain(`${f}:4: spec.metrics.rules: regex relabelling is not supported by meshlet`);
    expect(msg).toContain(`${f}:5: spec.metrics.latencyDistributionBuckets[1]: buckets must increase`);
    expect(msg).toContain(`spec.metrics.http.pathMatching[0]: "orders/{id}" must start with /`);
    expect(msg).toContain(`spec.metrics.http.pathMatching[1]: "/a/{x...}/b": {name...} must be the last segment`);
    expect(msg).toContain(`spec.metrics.http.pathMatching[2]: "/c/x{id}": a wildcard is a whole segment`);
    expect(msg).toContain(`${f}:11: spec.metrics.http.cardinality: unknown field`);
  });
});

describe("pathMatching picks the most specific pattern", () => {
  it("prefers literal segments over wildcards, whatever the order written", () => {
    const m = load(`  metrics:\n    http:\n      pathMatching: ["/users/{id}", "/users/me", "/{any...}"]\n`).conf();
    expect(m.pathMatching.match("/users/me")).toBe("/users/me");
    expect(m.pathMatching.match("/users/7")).toBe("/users/{id}");
    expect(m.pathMatching.match("/other/x")).toBe("/{any...}");
  });
});
