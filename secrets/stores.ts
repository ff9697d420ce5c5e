// Secret stores (Dapr's secretstores.local.env and secretstores.local.file) and the resolution of
// components' secretKeyRef through them. Values are never logged; the secrets API (api.ts) is the
// only place they leave the sidecar.

import fs from "node:fs";
import path from "node:path";
import type { ComponentSpec } from "../config/configuration.ts";
import { ConfigError } from "../config/errors.ts";

export interface SecretStore {
  readonly name: string;
  readonly type: string;
  /** The value of `key`, or null when the store has no such secret. */
  get(key: string): string | null;
  /** Every secret, name -> value. */
  all(): Record<string, string>;
  /** Stores whose secrets hold several values (Kubernetes Secrets): one value by secret and key. */
  getKey?(name: string, key: string): string | null;
  /** ...and all the values of one secret, as Dapr's secrets API answers for them. */
  getMap?(name: string): Record<string, string> | null;
}

/** The built-in store of a pod meshlet inject made: Kubernetes Secrets mounted as folders of files. */
export const KUBERNETES_STORE = "kubernetes";

/**
 * secretstores.kubernetes without API-server access: each Secret the pod's components read is
 * mounted read-only at `<dir>/<secret>/<key>` (kube/sidecar.ts), so the sidecar needs no RBAC.
 */
function kubernetesStore(dir: string): SecretStore {
  const read = (name: string): Record<string, string> | null => {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) return null;
    let keys: string[];
    try {
      keys = fs.readdirSync(path.join(dir, name)).filter((k) => !k.startsWith(".."));
    } catch {
      return null;
    }
    const out: Record<string, string> = {};
    for (const k of keys) out[k] = fs.readFileSync(path.join(dir, name, k), "utf8");
    return out;
  };
  return {
    name: KUBERNETES_STORE,
    type: "secretstores.kubernetes",
    get: (name) => {
      const m = read(name);
      const values = m ? Object.values(m) : [];
      return values.length === 1 ? values[0]! : null;
    },
    getKey: (name, key) => read(name)?.[key] ?? null,
    getMap: read,
    all: () => {
      const out: Record<string, string> = {};
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        // no Secrets mounted
      }
      for (const n of names) for (const [k, v] of Object.entries(read(n) ?? {})) out[`${n}:${k}`] = v;
      return out;
    },
  };
}

/** secretstores.local.env: environment variables (only those starting with `prefix`, which is removed, when set). */
function envStore(name: string, prefix: string, env: NodeJS.ProcessEnv): SecretStore {
  return {
    name,
    type: "secretstores.local.env",
    get: (key) => env[prefix + key] ?? null,
    all: () => {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) if (v !== undefined && k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
      return out;
    },
  };
}

/** Nested JSON objects flattened with `sep` (Dapr's nestedSeparator, ":" by default). */
function flatten(v: unknown, sep: string, at: string, out: Record<string, string>): void {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, sep, at ? `${at}${sep}${k}` : k, out);
  } else out[at] = typeof v === "string" ? v : JSON.stringify(v);
}

/** secretstores.local.file: a JSON file read at start (`secretsFile`, relative to the current folder as in Dapr). */
function fileStore(c: ComponentSpec): SecretStore {
  const file = c.metadata.secretsFile;
  if (!file) throw new ConfigError(`${c.at}: component ${c.name}: secretstores.local.file needs the secretsFile metadata`);
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(path.resolve(file), "utf8"));
  } catch (e) {
    throw new ConfigError(`${c.at}: component ${c.name}: cannot read secretsFile ${file}: ${(e as Error).message}`);
  }
  const secrets: Record<string, string> = {};
  flatten(doc, c.metadata.nestedSeparator || ":", "", secrets);
  return { name: c.name, type: c.type, get: (key) => (Object.hasOwn(secrets, key) ? secrets[key]! : null), all: () => ({ ...secrets }) };
}

/** The secret store components for this app, by name; an unsupported secretstores.* type is an error with file:line. */
export function openSecretStores(components: readonly ComponentSpec[], env: NodeJS.ProcessEnv = process.env): Map<string, SecretStore> {
  const out = new Map<string, SecretStore>();
  // In a pod meshlet inject made, Kubernetes Secrets are mounted: Dapr's built-in "kubernetes" store.
  if (env.MESHLET_K8S_SECRETS_DIR) out.set(KUBERNETES_STORE, kubernetesStore(env.MESHLET_K8S_SECRETS_DIR));
  for (const c of components) {
    if (!c.type.startsWith("secretstores.")) continue;
    if (c.type === "secretstores.local.env") out.set(c.name, envStore(c.name, c.metadata.prefix ?? "", env));
    else if (c.type === "secretstores.local.file") out.set(c.name, fileStore(c));
    else throw new ConfigError(`${c.at}: component ${c.name}: type ${c.type} is not supported by meshlet yet (secretstores.local.env, secretstores.local.file)`);
  }
  return out;
}

/**
 * Components with every secretKeyRef replaced by its value from the component's `auth.secretStore`
 * (Dapr's rule in self-hosted mode); a missing store or secret is an error naming the file:line.
 */
export function resolveSecretRefs(components: readonly ComponentSpec[], stores: ReadonlyMap<string, SecretStore>): ComponentSpec[] {
  return components.map((c) => {
    const refs = Object.entries(c.secretRefs);
    if (refs.length === 0) return c;
    // As in Dapr on Kubernetes, no auth.secretStore means the kubernetes store, where there is one.
    const storeName = c.secretStore ?? (stores.has(KUBERNETES_STORE) ? KUBERNETES_STORE : null);
    if (!storeName) throw new ConfigError(`${c.at}: component ${c.name}: secretKeyRef needs auth.secretStore naming a secret store component`);
    const store = stores.get(storeName);
    if (!store) throw new ConfigError(`${c.at}: component ${c.name}: auth.secretStore ${storeName} is not a loaded secret store${storeName === KUBERNETES_STORE ? " (in a pod, meshlet inject mounts the Secrets components name)" : ""}`);
    const metadata = { ...c.metadata };
    for (const [field, ref] of refs) {
      const v = store.getKey ? store.getKey(ref.name, ref.key) : store.get(ref.name);
      if (v === null) throw new ConfigError(`${c.at}: component ${c.name}: secret ${ref.name}${store.getKey ? ` key ${ref.key}` : ""} for ${field} is not in secret store ${storeName}`);
      // Dapr: a secret with several values is picked by key; a single value is used whatever the key.
      metadata[field] = v;
    }
    return { ...c, metadata, secretRefs: {} };
  });
}
