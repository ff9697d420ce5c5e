// One read of the resources paths for every kind meshlet takes from them: each file's text is
// read once (size-capped) and given to the Resiliency loader and to the Component reader, whose
// answers stand apart (a broken Resiliency document does not hold back a good Component change).

import { componentsFor, type ComponentSpec } from "../config/configuration.ts";
import { parseYamlText, resourceFiles, resourceText, type ResourceText, type YamlDoc } from "../config/yaml.ts";
import { ResiliencyError } from "../resiliency/policy/errors.ts";
import { policySetOf } from "../resiliency/policy/load.ts";
import type { PolicySet } from "../resiliency/policy/types.ts";

export interface ResourcesRequest {
  readonly paths: readonly string[];
  readonly appId: string;
}

export type PoliciesRead = { readonly ok: true; readonly set: PolicySet } | { readonly ok: false; readonly problems: readonly string[] };
export type ComponentsRead = { readonly ok: true; readonly specs: ComponentSpec[] } | { readonly ok: false; readonly problem: string };

export interface ResourcesRead {
  readonly policies: PoliciesRead;
  readonly components: ComponentsRead;
}

export function readResources(req: ResourcesRequest): ResourcesRead {
  let texts: ResourceText[];
  try {
    texts = resourceFiles(req.paths).map(resourceText);
  } catch (e) {
    // A resources path that does not exist: neither kind can be read.
    const problem = (e as Error).message;
    return { policies: { ok: false, problems: [problem] }, components: { ok: false, problem } };
  }
  return { policies: policiesOf(texts, req.appId), components: componentsOf(texts, req.appId) };
}

function policiesOf(texts: readonly ResourceText[], appId: string): PoliciesRead {
  try {
    return { ok: true, set: policySetOf(texts, appId) };
  } catch (e) {
    return { ok: false, problems: e instanceof ResiliencyError ? e.problems : [(e as Error).message] };
  }
}

function componentsOf(texts: readonly ResourceText[], appId: string): ComponentsRead {
  try {
    const docs: YamlDoc[] = [];
    for (const t of texts) {
      if (t.error !== undefined) throw new Error(t.error);
      docs.push(...parseYamlText(t.text, t.file));
    }
    return { ok: true, specs: componentsFor(docs, appId) };
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
}
