// Which policies apply to a sidecar's calls to one component (a state store's reads and writes),
// with Dapr's precedence: a `targets.components.<name>.outbound` entry uses only its named
// policies; otherwise the most specific Default*Policy of each kind, then none.

import type { Sourced } from "./resolve.ts";
import type { BreakerPolicy, Located, PolicySet, RetryPolicy, TimeoutPolicy } from "./types.ts";

export interface ComponentPolicy {
  readonly component: string;
  readonly timeout: Sourced<TimeoutPolicy> | null;
  readonly retry: Sourced<RetryPolicy> | null;
  readonly breaker: Sourced<BreakerPolicy> | null;
}

/** Dapr's building-block names in default policy names (`DefaultStatestoreComponentOutboundRetryPolicy`). */
function blockName(type: string): string {
  const block = type.split(".")[0] ?? "";
  if (block === "state") return "Statestore";
  if (block === "secretstores") return "Secretstore";
  if (block === "bindings") return "Binding";
  return block.charAt(0).toUpperCase() + block.slice(1);
}

function byDefault<T>(map: ReadonlyMap<string, Located<T>>, kind: string, block: string): Sourced<T> | null {
  for (const scope of [`${block}ComponentOutbound`, "ComponentOutbound", "Component", ""]) {
    const name = `Default${scope}${kind}Policy`;
    const p = map.get(name);
    if (p) return { value: p.value, source: `${name} (${p.at})` };
  }
  return null;
}

export function resolveComponentPolicy(set: PolicySet, component: string, type: string): ComponentPolicy {
  const target = set.components.get(component)?.outbound;
  if (target) {
    const src = (kind: string, name: string, at: string) => `target components.${component}.outbound.${kind} -> ${name} (${at})`;
    const t = target.timeout ? set.timeouts.get(target.timeout) : undefined;
    const r = target.retry ? set.retries.get(target.retry) : undefined;
    const b = target.circuitBreaker ? set.breakers.get(target.circuitBreaker) : undefined;
    return {
      component,
      timeout: t ? { value: t.value, source: src("timeout", t.value.name, t.at) } : null,
      retry: r ? { value: r.value, source: src("retry", r.value.name, r.at) } : null,
      breaker: b ? { value: b.value, source: src("circuitBreaker", b.value.name, b.at) } : null,
    };
  }
  const block = blockName(type);
  return {
    component,
    timeout: byDefault(set.timeouts, "Timeout", block),
    retry: byDefault(set.retries, "Retry", block),
    breaker: byDefault(set.breakers, "CircuitBreaker", block),
  };
}
