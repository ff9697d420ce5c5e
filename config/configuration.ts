// Dapr's `kind: Configuration` (from --config) and `kind: Component` documents, reduced to what
// meshlet acts on today: name resolution and the component list for /v1.0/metadata.

import { ConfigError, readYamlFile, type YamlDoc } from "./yaml.ts";

/** A `kind: Component` document as /v1.0/metadata lists it. */
export interface ComponentInfo {
  readonly name: string;
  readonly type: string;
  readonly version: string;
  readonly capabilities: readonly string[];
}

export interface NameResolutionSpec {
  readonly component: string;
  readonly configuration: Record<string, unknown>;
  /** Where the choice came from, for the startup log. */
  readonly source: string;
}

export interface MeshConfiguration {
  readonly nameResolution: NameResolutionSpec | null;
}

export function loadConfiguration(file: string): MeshConfiguration {
  const docs = readYamlFile(file).filter((d) => d.kind === "Configuration");
  if (docs.length === 0) throw new ConfigError(`${file}: no document with kind: Configuration`);
  const d = docs[0]!;
  const spec = (d.data.spec ?? {}) as Record<string, unknown>;
  const nr = spec.nameResolution as Record<string, unknown> | undefined;
  if (nr === undefined || nr === null) return { nameResolution: null };
  if (typeof nr !== "object" || typeof nr.component !== "string" || nr.component === "") {
    throw new ConfigError(`${d.file}:${d.line}: spec.nameResolution.component must be a string`);
  }
  const conf = nr.configuration ?? {};
  if (typeof conf !== "object" || Array.isArray(conf)) {
    throw new ConfigError(`${d.file}:${d.line}: spec.nameResolution.configuration must be a mapping`);
  }
  return {
    nameResolution: {
      component: nr.component,
      configuration: conf as Record<string, unknown>,
      source: `${d.file} (spec.nameResolution)`,
    },
  };
}

/** Components in scope for `appId`, as /v1.0/metadata lists them. */
export function componentsFor(docs: readonly YamlDoc[], appId: string): ComponentInfo[] {
  const out: ComponentInfo[] = [];
  for (const d of docs) {
    if (d.kind !== "Component") continue;
    const meta = (d.data.metadata ?? {}) as Record<string, unknown>;
    const spec = (d.data.spec ?? {}) as Record<string, unknown>;
    const scopes = d.data.scopes;
    if (Array.isArray(scopes) && scopes.length && !scopes.includes(appId)) continue;
    if (typeof meta.name !== "string" || typeof spec.type !== "string") {
      throw new ConfigError(`${d.file}:${d.line}: a Component needs metadata.name and spec.type`);
    }
    out.push({ name: meta.name, type: spec.type, version: String(spec.version ?? "v1"), capabilities: [] });
  }
  return out;
}
