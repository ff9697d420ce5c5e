// Configuration `spec.metrics` as meshlet reads it (Dapr's fields), validated with file:line:
// enabled, latencyDistributionBuckets (ms) and http {increasedCardinality, pathMatching,
// excludeVerbs}; `rules` (regex relabelling) is refused with the way to get the same bound.

import { isSeq, type Node } from "yaml";
import type { Reader } from "./yaml-reader.ts";
import { checkPathPattern, compilePathPatterns } from "../observability/path-patterns.ts";
import { DAPR_LATENCY_BUCKETS_MS, DEFAULT_METRICS, type MetricsSpec } from "../observability/http-metrics.ts";

export { DEFAULT_METRICS, type MetricsSpec };

export function parseMetrics(r: Reader, node: Node | null): MetricsSpec {
  if (node === null) return DEFAULT_METRICS;
  const v: Record<string, Node | null> = {};
  for (const [k, val] of r.entries(node, "spec.metrics", ["enabled", "latencyDistributionBuckets", "http", "rules", "recordErrorCodes"])) v[k] = val;
  const enabled = v.enabled !== undefined ? (r.bool(v.enabled, "spec.metrics.enabled") ?? true) : true;
  if (v.rules !== undefined && !(isSeq(v.rules) && v.rules.items.length === 0)) {
    r.fail(v.rules, "spec.metrics.rules", "regex relabelling is not supported by meshlet: list the paths that matter under spec.metrics.http.pathMatching (others become `_` with increasedCardinality: false)");
  }
  // Dapr's error_code_total is covered by meshlet_sidecar_errors_total{reason}, always recorded.
  if (v.recordErrorCodes !== undefined) r.bool(v.recordErrorCodes, "spec.metrics.recordErrorCodes");
  let latencyBucketsMs = DAPR_LATENCY_BUCKETS_MS;
  if (v.latencyDistributionBuckets !== undefined) {
    const node = v.latencyDistributionBuckets;
    if (!isSeq(node) || node.items.length === 0) r.fail(node, "spec.metrics.latencyDistributionBuckets", "expected a non-empty list of milliseconds");
    else {
      const out: number[] = [];
      node.items.forEach((item, i) => {
        const n = r.num(item as Node, `spec.metrics.latencyDistributionBuckets[${i}]`, 0);
        if (n === undefined) return;
        if (out.length && n <= out[out.length - 1]!) r.fail(item as Node, `spec.metrics.latencyDistributionBuckets[${i}]`, "buckets must increase");
        out.push(n);
      });
      latencyBucketsMs = Object.freeze(out);
    }
  }
  let increasedCardinality = true;
  let excludeVerbs = false;
  let patterns: string[] = [];
  if (v.http !== undefined) {
    for (const [k, val] of r.entries(v.http, "spec.metrics.http", ["increasedCardinality", "pathMatching", "excludeVerbs"])) {
      if (k === "increasedCardinality") increasedCardinality = r.bool(val, "spec.metrics.http.increasedCardinality") ?? true;
      else if (k === "excludeVerbs") excludeVerbs = r.bool(val, "spec.metrics.http.excludeVerbs") ?? false;
      else if (!isSeq(val)) r.fail(val, "spec.metrics.http.pathMatching", "expected a list of paths such as /orders/{orderID}");
      else
        patterns = val.items.flatMap((item, i) => {
          const s = r.str(item as Node, `spec.metrics.http.pathMatching[${i}]`);
          if (s === undefined) return [];
          const bad = checkPathPattern(s);
          if (bad) r.fail(item as Node, `spec.metrics.http.pathMatching[${i}]`, bad);
          return bad ? [] : [s];
        });
    }
  }
  return Object.freeze({ enabled, latencyBucketsMs, increasedCardinality, pathMatching: compilePathPatterns(patterns), excludeVerbs });
}
