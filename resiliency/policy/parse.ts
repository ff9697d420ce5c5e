// Dapr `kind: Resiliency` YAML -> validated, defaulted, frozen policy data. Validation is
// complete: unknown fields, bad durations, bad status lists and unparseable trip expressions
// are all reported with file, line and field. Precedence between targets lives in resolve.ts.

import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node, type YAMLMap } from "yaml";
import { Reader } from "../../config/yaml-reader.ts";
import { compileTrip } from "../trip.ts";
import { ResiliencyError } from "./errors.ts";
import {
  DEFAULT_OUTLIER,
  type AppTarget,
  type BreakerPolicy,
  type ComponentTarget,
  type ComponentTargets,
  type HedgePolicy,
  type LoadBalancerPolicy,
  type Located,
  type OutlierPolicy,
  type RetryPolicy,
  type TimeoutPolicy,
} from "./types.ts";

export { ResiliencyError };

/** One `kind: Resiliency` document, validated. */
export interface ResiliencyDoc {
  readonly name: string;
  readonly at: string;
  readonly scopes: readonly string[] | null;
  readonly timeouts: Map<string, Located<TimeoutPolicy>>;
  readonly retries: Map<string, Located<RetryPolicy>>;
  readonly breakers: Map<string, Located<BreakerPolicy>>;
  readonly apps: Map<string, AppTarget>;
  readonly components: Map<string, ComponentTargets>;
}

const EXP_DEFAULTS = { initialInterval: 500, multiplier: 1.5, randomizationFactor: 0.5, maxElapsedTime: 15 * 60_000 };

/** `"429,500-599"` -> [[429,429],[500,599]]; ranges inclusive; empty items ignored (Dapr). */
export function parseCodes(s: string, min: number, max: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const raw of s.split(",")) {
    const item = raw.trim();
    if (!item) continue;
    const parts = item.split("-");
    if (parts.length > 2 || parts.some((p) => !/^\d+$/.test(p.trim()))) throw new Error(`"${item}" is not a code or a range a-b`);
    const a = Number(parts[0]);
    const b = Number(parts[1] ?? parts[0]);
    if (a < min || b > max || a > b) throw new Error(`"${item}" is outside ${min}-${max} or reversed`);
    out.push([a, b]);
  }
  return out;
}

function retryPolicy(r: Reader, name: string, node: Node | null, field: string): RetryPolicy | null {
  const v: Record<string, Node | null> = {};
  for (const [k, val] of r.entries(node, field, [
    "policy",
    "duration",
    "maxInterval",
    "maxRetries",
    "matching",
    "initialInterval",
    "randomizationFactor",
    "multiplier",
    "maxElapsedTime",
    "retryNonIdempotent",
  ])) {
    v[k] = val;
  }
  const before = r.problems.length;
  let kind: "constant" | "exponential" = "constant";
  if (v.policy !== undefined) {
    const p = r.str(v.policy, `${field}.policy`)?.toLowerCase();
    if (p === "constant" || p === "exponential") kind = p;
    else if (p !== undefined) r.fail(v.policy, `${field}.policy`, `"${p}" is not constant or exponential`);
  }
  let http: Array<[number, number]> | null = null;
  let grpc: Array<[number, number]> | null = null;
  for (const [k, val] of r.entries(v.matching ?? null, `${field}.matching`, ["httpStatusCodes", "gRPCStatusCodes"])) {
    const s = r.str(val, `${field}.matching.${k}`);
    if (s === undefined) continue;
    try {
      if (k === "httpStatusCodes") http = parseCodes(s, 100, 599);
      else grpc = parseCodes(s, 0, 16);
    } catch (e) {
      r.fail(val, `${field}.matching.${k}`, (e as Error).message);
    }
  }
  const d = (k: string, bare = false) => (v[k] !== undefined ? r.duration(v[k]!, `${field}.${k}`, bare) : undefined);
  const policy: RetryPolicy = {
    name,
    policy: kind,
    duration: d("duration") ?? 5000,
    initialInterval: d("initialInterval") ?? EXP_DEFAULTS.initialInterval,
    multiplier: v.multiplier !== undefined ? (r.num(v.multiplier, `${field}.multiplier`, 1) ?? 1.5) : EXP_DEFAULTS.multiplier,
    randomizationFactor:
      v.randomizationFactor !== undefined ? (r.num(v.randomizationFactor, `${field}.randomizationFactor`, 0, 1) ?? 0.5) : EXP_DEFAULTS.randomizationFactor,
    maxInterval: d("maxInterval") ?? 60_000,
    maxElapsedTime: d("maxElapsedTime") ?? (kind === "exponential" ? EXP_DEFAULTS.maxElapsedTime : 0),
    maxRetries: v.maxRetries !== undefined ? (r.int(v.maxRetries, `${field}.maxRetries`, -1) ?? -1) : -1,
    httpStatusCodes: http,
    gRPCStatusCodes: grpc,
    retryNonIdempotent: v.retryNonIdempotent !== undefined ? (r.bool(v.retryNonIdempotent, `${field}.retryNonIdempotent`) ?? false) : false,
    onlyNeverSent: false,
  };
  return r.problems.length === before ? Object.freeze(policy) : null;
}

function breakerPolicy(r: Reader, name: string, node: Node | null, field: string): BreakerPolicy | null {
  const v: Record<string, Node | null> = {};
  for (const [k, val] of r.entries(node, field, ["maxRequests", "interval", "timeout", "trip"])) v[k] = val;
  const before = r.problems.length;
  const trip = v.trip !== undefined ? (r.str(v.trip, `${field}.trip`) ?? "") : "consecutiveFailures > 5";
  let tripFn: BreakerPolicy["tripFn"] = () => false;
  try {
    tripFn = compileTrip(trip);
  } catch (e) {
    r.fail(v.trip ?? node, `${field}.trip`, (e as Error).message);
  }
  const policy: BreakerPolicy = {
    name,
    maxRequests: v.maxRequests !== undefined ? (r.int(v.maxRequests, `${field}.maxRequests`, 1) ?? 1) : 1,
    interval: v.interval !== undefined ? (r.duration(v.interval, `${field}.interval`, false) ?? 0) : 0,
    timeout: v.timeout !== undefined ? (r.duration(v.timeout, `${field}.timeout`, false) ?? 60_000) : 60_000,
    trip,
    tripFn,
  };
  return r.problems.length === before ? Object.freeze(policy) : null;
}

/** meshlet's outlierDetection block: each field optional, the rest from DEFAULT_OUTLIER. */
function outlierPolicy(r: Reader, node: Node | null, field: string): OutlierPolicy | undefined {
  const before = r.problems.length;
  const o: { -readonly [K in keyof OutlierPolicy]: OutlierPolicy[K] } = { ...DEFAULT_OUTLIER };
  for (const [k, val] of r.entries(node, field, ["consecutiveFailures", "baseEjectionTime", "maxEjectionTime", "maxEjectionPercent"])) {
    if (k === "consecutiveFailures") o.consecutiveFailures = r.int(val, `${field}.${k}`, 1) ?? o.consecutiveFailures;
    else if (k === "maxEjectionPercent") {
      const pct = r.int(val, `${field}.${k}`, 0) ?? o.maxEjectionPercent;
      if (pct > 100) r.fail(val, `${field}.${k}`, `must be 0-100 (a share of the endpoints), not ${pct}`);
      o.maxEjectionPercent = pct;
    } else if (k === "baseEjectionTime") o.baseEjectionMs = r.duration(val, `${field}.${k}`, true) ?? o.baseEjectionMs;
    else o.maxEjectionMs = r.duration(val, `${field}.${k}`, true) ?? o.maxEjectionMs;
  }
  if (o.maxEjectionMs < o.baseEjectionMs) r.fail(node, `${field}.maxEjectionTime`, "must not be shorter than baseEjectionTime");
  return r.problems.length === before ? Object.freeze(o) : undefined;
}

/** `p95`, `p99.9`: a percentile from 50 up to (not including) 100. */
const PERCENTILE = /^p(\d{2}(?:\.\d{1,2})?)$/;

/** meshlet's hedge block: `delay` (a duration or a percentile such as p95) and `maxHedges` (1-3, default 1). */
function hedgePolicy(r: Reader, node: Node | null, field: string): HedgePolicy | undefined {
  const before = r.problems.length;
  const h: { -readonly [K in keyof HedgePolicy]: HedgePolicy[K] } = { delayMs: null, percentile: null, maxHedges: 1 };
  let delay = false;
  for (const [k, val] of r.entries(node, field, ["delay", "maxHedges"])) {
    if (k === "maxHedges") {
      const n = r.int(val, `${field}.${k}`, 1);
      if (n !== undefined && n > 3) r.fail(val, `${field}.${k}`, `must be 1-3 (each hedge is one more request in flight), not ${n}`);
      else if (n !== undefined) h.maxHedges = n;
      continue;
    }
    delay = true;
    const p = isScalar(val) && typeof val.value === "string" ? PERCENTILE.exec(val.value.trim()) : null;
    if (p) {
      const pct = Number(p[1]);
      if (pct < 50) r.fail(val, `${field}.${k}`, `a percentile from p50 to p99.99, not ${val!.toString()}`);
      else h.percentile = pct;
    } else if (isScalar(val) && typeof val.value === "string" && /^p/i.test(val.value.trim())) {
      r.fail(val, `${field}.${k}`, `a percentile is written p50 to p99.99 (p95, p99.9), not "${val.value}"`);
    } else {
      const ms = r.duration(val, `${field}.${k}`, true);
      if (ms === 0) r.fail(val, `${field}.${k}`, "must be longer than 0 (a hedge at once doubles every read)");
      else if (ms !== undefined) h.delayMs = ms;
    }
  }
  if (node === null) r.fail(node, field, 'expected a mapping with delay ("50ms" or "p95")');
  else if (!delay && isMap(node)) r.fail(node, `${field}.delay`, 'required: a duration ("50ms") or a percentile of recent times to headers ("p95")');
  return r.problems.length === before ? Object.freeze(h) : undefined;
}

/** A header field name (RFC 9110 token); `-bin` and pseudo-headers are not. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** meshlet's loadBalancer block, Istio's shape: `consistentHash: {httpHeaderName: x-user-id}`, `warmupDurationSecs: 60s`. */
function loadBalancerPolicy(r: Reader, node: Node | null, field: string): LoadBalancerPolicy | undefined {
  const before = r.problems.length;
  let hashHeader: string | null = null;
  let warmupMs = 0;
  let set = false;
  for (const [k, val] of r.entries(node, field, ["consistentHash", "warmupDurationSecs"])) {
    set = true;
    if (k === "warmupDurationSecs") {
      // Istio writes it as a duration ("60s"); a bare number is seconds, as the name says.
      const ms = isScalar(val) && typeof val.value === "number" ? val.value * 1000 : r.duration(val, `${field}.${k}`, false);
      if (ms !== undefined && !(ms > 0 && ms <= 3_600_000)) r.fail(val, `${field}.${k}`, "must be more than 0 and at most 1h");
      else if (ms !== undefined) warmupMs = ms;
      continue;
    }
    for (const [k2, v2] of r.entries(val, `${field}.${k}`, ["httpHeaderName"])) {
      const name = r.str(v2, `${field}.${k}.${k2}`)?.trim().toLowerCase();
      if (name !== undefined && !HEADER_NAME.test(name)) r.fail(v2, `${field}.${k}.${k2}`, `"${name}" is not a header name`);
      else if (name !== undefined) hashHeader = name;
    }
    if (hashHeader === null && r.problems.length === before) r.fail(val, `${field}.${k}.httpHeaderName`, "required: the header whose value picks the instance");
  }
  if (!set && r.problems.length === before) r.fail(node, field, "set consistentHash, warmupDurationSecs or both");
  return r.problems.length === before ? Object.freeze({ hashHeader, warmupMs }) : undefined;
}

function appTarget(r: Reader, node: Node | null, field: string, keyNode: Node): AppTarget {
  const t: {
    timeout?: string;
    retry?: string;
    circuitBreaker?: string;
    circuitBreakerCacheSize: number;
    deadline?: number;
    outlierDetection?: OutlierPolicy;
    hedge?: HedgePolicy;
    loadBalancer?: LoadBalancerPolicy;
    at: string;
  } = {
    circuitBreakerCacheSize: 100,
    at: r.at(keyNode),
  };
  for (const [k, val] of r.entries(node, field, ["timeout", "retry", "circuitBreaker", "circuitBreakerCacheSize", "deadline", "outlierDetection", "hedge", "loadBalancer"])) {
    if (k === "circuitBreakerCacheSize") t.circuitBreakerCacheSize = r.int(val, `${field}.${k}`, 1) ?? 100;
    else if (k === "deadline") t.deadline = r.duration(val, `${field}.${k}`, true);
    else if (k === "outlierDetection") t.outlierDetection = outlierPolicy(r, val, `${field}.${k}`);
    else if (k === "hedge") t.hedge = hedgePolicy(r, val, `${field}.${k}`);
    else if (k === "loadBalancer") t.loadBalancer = loadBalancerPolicy(r, val, `${field}.${k}`);
    else if (k === "timeout" || k === "retry" || k === "circuitBreaker") t[k] = r.str(val, `${field}.${k}`);
  }
  return Object.freeze(t);
}

function componentTarget(r: Reader, node: Node | null, field: string, keyNode: Node): ComponentTarget {
  const t: { timeout?: string; retry?: string; circuitBreaker?: string; at: string } = { at: r.at(keyNode) };
  for (const [k, val] of r.entries(node, field, ["timeout", "retry", "circuitBreaker"])) {
    if (k === "timeout" || k === "retry" || k === "circuitBreaker") t[k] = r.str(val, `${field}.${k}`);
  }
  return Object.freeze(t);
}

/** Parses every document of one file; non-Resiliency documents are skipped. */
export function parseResiliencyText(text: string, file: string): { docs: ResiliencyDoc[]; problems: string[] } {
  const lc = new LineCounter();
  const r = new Reader(file, lc);
  const docs: ResiliencyDoc[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false })) {
    if (doc.errors.length) {
      for (const e of doc.errors) r.problems.push(`${file}:${e.linePos?.[0]?.line ?? 0}: invalid YAML: ${e.message.split("\n")[0]}`);
      continue;
    }
    const root = doc.contents as Node | null;
    if (!root || !isMap(root)) continue;
    const kindNode = (root as YAMLMap).get("kind", true) as Node | undefined;
    if (!isScalar(kindNode) || kindNode.value !== "Resiliency") continue;
    const top: Record<string, Node | null> = {};
    for (const [k, v] of r.entries(root, "", ["apiVersion", "kind", "metadata", "scopes", "spec", "auth"])) top[k] = v;
    let name = "unnamed";
    for (const [k, v] of r.entries(top.metadata ?? null, "metadata", null)) if (k === "name") name = r.str(v, "metadata.name") ?? name;
    let scopes: string[] | null = null;
    if (top.scopes) {
      if (isSeq(top.scopes)) scopes = top.scopes.items.map((i) => (isScalar(i) ? String(i.value) : ""));
      else r.fail(top.scopes, "scopes", "expected a list of app-ids");
    }
    const spec: Record<string, Node | null> = {};
    for (const [k, v] of r.entries(top.spec ?? null, "spec", ["policies", "targets"])) spec[k] = v;
    const pol: Record<string, Node | null> = {};
    for (const [k, v] of r.entries(spec.policies ?? null, "spec.policies", ["timeouts", "retries", "circuitBreakers"])) pol[k] = v;

    const out: ResiliencyDoc = {
      name,
      at: r.at(root),
      scopes,
      timeouts: new Map(),
      retries: new Map(),
      breakers: new Map(),
      apps: new Map(),
      components: new Map(),
    };
    for (const [n, v, k] of r.entries(pol.timeouts ?? null, "spec.policies.timeouts", null)) {
      const ms = r.duration(v, `spec.policies.timeouts.${n}`, true);
      if (ms !== undefined) out.timeouts.set(n, { value: Object.freeze({ name: n, ms }), at: r.at(k) });
    }
    for (const [n, v, k] of r.entries(pol.retries ?? null, "spec.policies.retries", null)) {
      const p = retryPolicy(r, n, v, `spec.policies.retries.${n}`);
      if (p) out.retries.set(n, { value: p, at: r.at(k) });
    }
    for (const [n, v, k] of r.entries(pol.circuitBreakers ?? null, "spec.policies.circuitBreakers", null)) {
      const p = breakerPolicy(r, n, v, `spec.policies.circuitBreakers.${n}`);
      if (p) out.breakers.set(n, { value: p, at: r.at(k) });
    }
    // Policy names may be defined in another resource: references are checked when merging.
    const targets: Record<string, Node | null> = {};
    for (const [k, v] of r.entries(spec.targets ?? null, "spec.targets", ["apps", "actors", "components"])) targets[k] = v;
    for (const [id, v, k] of r.entries(targets.apps ?? null, "spec.targets.apps", null)) {
      out.apps.set(id, appTarget(r, v, `spec.targets.apps.${id}`, k));
    }
    for (const [id, v] of r.entries(targets.actors ?? null, "spec.targets.actors", null)) {
      r.entries(v, `spec.targets.actors.${id}`, ["timeout", "retry", "circuitBreaker", "circuitBreakerScope", "circuitBreakerCacheSize"]);
    }
    for (const [id, v] of r.entries(targets.components ?? null, "spec.targets.components", null)) {
      const c: { outbound?: ComponentTarget; inbound?: ComponentTarget } = {};
      for (const [dir, dv, dk] of r.entries(v, `spec.targets.components.${id}`, ["outbound", "inbound"])) {
        if (dir === "outbound" || dir === "inbound") c[dir] = componentTarget(r, dv, `spec.targets.components.${id}.${dir}`, dk);
      }
      out.components.set(id, Object.freeze(c));
    }
    docs.push(out);
  }
  return { docs, problems: r.problems };
}
