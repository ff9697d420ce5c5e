// A PolicySet as plain data that can cross to and from a worker thread (structured clone), and
// back into the frozen form layers use. Trip functions do not cross: they are compiled again on
// this side, lazily, when a breaker first evaluates one (the worker already checked they compile).

import { compileTrip } from "../trip.ts";
import type { BreakerCounts, BreakerPolicy, Located, PolicySet } from "./types.ts";

type PlainBreaker = Omit<BreakerPolicy, "tripFn">;

export interface PolicySetData {
  readonly timeouts: PolicySet["timeouts"];
  readonly retries: PolicySet["retries"];
  readonly breakers: ReadonlyMap<string, Located<PlainBreaker>>;
  readonly apps: PolicySet["apps"];
  readonly components: PolicySet["components"];
  readonly resources: readonly string[];
}

export function toData(set: PolicySet): PolicySetData {
  const breakers = new Map<string, Located<PlainBreaker>>();
  for (const [k, { value, at }] of set.breakers) {
    const { tripFn: _drop, ...plain } = value;
    breakers.set(k, { value: plain, at });
  }
  return { timeouts: set.timeouts, retries: set.retries, breakers, apps: set.apps, components: set.components, resources: set.resources };
}

/** A trip function compiled on first use. */
function lazyTrip(expr: string): (c: BreakerCounts) => boolean {
  let fn: ((c: BreakerCounts) => boolean) | null = null;
  return (c) => (fn ??= compileTrip(expr))(c);
}

function frozenMap<V>(m: ReadonlyMap<string, Located<V>>): Map<string, Located<V>> {
  const out = new Map<string, Located<V>>();
  for (const [k, { value, at }] of m) out.set(k, Object.freeze({ value: Object.freeze(value), at }));
  return out;
}

export function fromData(d: PolicySetData): PolicySet {
  const breakers = new Map<string, Located<BreakerPolicy>>();
  for (const [k, { value, at }] of d.breakers) breakers.set(k, Object.freeze({ value: Object.freeze({ ...value, tripFn: lazyTrip(value.trip) }), at }));
  const apps = new Map(d.apps);
  // The worker's copy arrives unfrozen, nested blocks included: frozen again, as the parser left it.
  for (const [k, v] of apps) {
    for (const block of [v.outlierDetection, v.hedge, v.loadBalancer]) if (block) Object.freeze(block);
    apps.set(k, Object.freeze(v));
  }
  const components = new Map(d.components);
  for (const [k, v] of components) components.set(k, Object.freeze({ outbound: v.outbound && Object.freeze(v.outbound), inbound: v.inbound && Object.freeze(v.inbound) }));
  return Object.freeze({
    timeouts: frozenMap(d.timeouts),
    retries: frozenMap(d.retries),
    breakers,
    apps,
    components,
    resources: Object.freeze([...d.resources]),
  });
}
