// Loads every `kind: Resiliency` document from the resources paths, keeps those in scope for
// this sidecar's app-id, merges them and checks cross-references: all or nothing. It does not
// watch files (reload.ts) or pick a target's policy (resolve.ts).

import { resourceText, resourceFiles as listResourceFiles, type ResourceText } from "../../config/yaml.ts";
import { parseResiliencyText, ResiliencyError, type ResiliencyDoc } from "./parse.ts";
import type { AppTarget, ComponentTargets, Located, PolicySet, RetryPolicy, TimeoutPolicy, BreakerPolicy } from "./types.ts";

/** The resource files behind resources paths; a missing path is reported like a YAML problem. */
export function resourceFiles(paths: readonly string[]): string[] {
  try {
    return listResourceFiles(paths);
  } catch (e) {
    throw new ResiliencyError([(e as Error).message]);
  }
}

export function mergeDocs(docs: readonly ResiliencyDoc[], appId: string | null): PolicySet {
  const timeouts = new Map<string, Located<TimeoutPolicy>>();
  const retries = new Map<string, Located<RetryPolicy>>();
  const breakers = new Map<string, Located<BreakerPolicy>>();
  const apps = new Map<string, AppTarget>();
  const components = new Map<string, ComponentTargets>();
  const resources: string[] = [];
  for (const d of docs) {
    if (appId !== null && d.scopes && !d.scopes.includes(appId)) continue;
    resources.push(`${d.name} (${d.at})`);
    for (const [k, v] of d.timeouts) timeouts.set(k, v);
    for (const [k, v] of d.retries) retries.set(k, v);
    for (const [k, v] of d.breakers) breakers.set(k, v);
    for (const [k, v] of d.apps) apps.set(k, v);
    for (const [k, v] of d.components) components.set(k, v);
  }
  const problems: string[] = [];
  const check = (t: { timeout?: string; retry?: string; circuitBreaker?: string; at: string }, field: string) => {
    if (t.timeout !== undefined && !timeouts.has(t.timeout)) problems.push(`${t.at}: ${field}.timeout: no timeout policy named "${t.timeout}"`);
    if (t.retry !== undefined && !retries.has(t.retry)) problems.push(`${t.at}: ${field}.retry: no retry policy named "${t.retry}"`);
    if (t.circuitBreaker !== undefined && !breakers.has(t.circuitBreaker)) {
      problems.push(`${t.at}: ${field}.circuitBreaker: no circuit breaker policy named "${t.circuitBreaker}"`);
    }
  };
  for (const [id, t] of apps) check(t, `spec.targets.apps.${id}`);
  for (const [name, c] of components) {
    if (c.outbound) check(c.outbound, `spec.targets.components.${name}.outbound`);
    if (c.inbound) check(c.inbound, `spec.targets.components.${name}.inbound`);
  }
  if (problems.length) throw new ResiliencyError(problems);
  return Object.freeze({ timeouts, retries, breakers, apps, components, resources: Object.freeze(resources) });
}

/** Parses and validates files; throws ResiliencyError listing every problem found. */
export function loadPolicySet(files: readonly string[], appId: string | null): PolicySet {
  return policySetOf(files.map(resourceText), appId);
}

/** The same from texts already read (resources/read.ts reads each file once for every kind). */
export function policySetOf(texts: readonly ResourceText[], appId: string | null): PolicySet {
  const docs: ResiliencyDoc[] = [];
  const problems: string[] = [];
  for (const t of texts) {
    if (t.error !== undefined) {
      problems.push(t.error);
      continue;
    }
    const r = parseResiliencyText(t.text, t.file);
    docs.push(...r.docs);
    problems.push(...r.problems);
  }
  if (problems.length) throw new ResiliencyError(problems);
  return mergeDocs(docs, appId);
}
