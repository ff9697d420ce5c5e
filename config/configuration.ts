// Dapr's `kind: Configuration` (from --config) and `kind: Component` documents, reduced to what
// meshlet acts on today: name resolution, mTLS, access control, tracing, logging, metrics, and the
// component list for /v1.0/metadata.

import { isMap, LineCounter, parseAllDocuments, type Node, type YAMLMap } from "yaml";
import { ConfigError, readResourceText, type YamlDoc } from "./yaml.ts";
import { Reader } from "./yaml-reader.ts";
import { parseAccessControl } from "../security/acl/parse.ts";
import type { AccessControl } from "../security/acl/policy.ts";
import { DEFAULT_TRUST_DOMAIN } from "../security/spiffe.ts";
import { DEFAULT_MTLS, type MtlsSpec } from "./mtls-spec.ts";
import { parseTracing, type TracingSpec } from "./tracing-spec.ts";
import { parseMetrics, type MetricsSpec } from "./metrics-spec.ts";

export { DEFAULT_MTLS, type MtlsSpec };

/** A `kind: Component` document as /v1.0/metadata lists it. */
export interface ComponentInfo {
  readonly name: string;
  readonly type: string;
  readonly version: string;
  readonly capabilities: readonly string[];
}

/** A Component as loaded: what the metadata API shows, plus its settings (never shown: they hold secrets). */
export interface ComponentSpec extends ComponentInfo {
  /** spec.metadata as name -> value (secretKeyRef ones once resolved). */
  readonly metadata: Readonly<Record<string, string>>;
  /** spec.metadata entries given as secretKeyRef, by field: resolved through `secretStore` before use. */
  readonly secretRefs: Readonly<Record<string, { readonly name: string; readonly key: string }>>;
  /** auth.secretStore: where secretKeyRef values come from. */
  readonly secretStore: string | null;
  readonly ignoreErrors: boolean;
  /** file:line of the document, for errors. */
  readonly at: string;
}

export interface NameResolutionSpec {
  readonly component: string;
  readonly configuration: Record<string, unknown>;
  /** Where the choice came from, for the startup log. */
  readonly source: string;
}

export interface MeshConfiguration {
  readonly nameResolution: NameResolutionSpec | null;
  readonly mtls: MtlsSpec;
  /** null: no accessControl section (every caller allowed). */
  readonly accessControl: AccessControl | null;
  /** The app's trust domain: accessControl.trustDomain, else `public`. */
  readonly trustDomain: string;
  /** spec.tracing; null: no section (trace context is propagated, nothing is exported). */
  readonly tracing: TracingSpec | null;
  /** spec.logging.apiLogging. */
  readonly apiLogging: { readonly enabled: boolean; readonly obfuscateURLs: boolean; readonly omitHealthChecks: boolean };
  /** spec.metrics (Dapr's defaults when absent). */
  readonly metrics: MetricsSpec;
}

const NO_API_LOGGING = Object.freeze({ enabled: false, obfuscateURLs: false, omitHealthChecks: false });

function apiLoggingSpec(r: Reader, node: Node | null): MeshConfiguration["apiLogging"] {
  const out: { enabled: boolean; obfuscateURLs: boolean; omitHealthChecks: boolean } = { ...NO_API_LOGGING };
  for (const [k, v] of r.entries(node, "spec.logging", ["apiLogging"])) {
    if (k !== "apiLogging") continue;
    for (const [f, val] of r.entries(v, "spec.logging.apiLogging", ["enabled", "obfuscateURLs", "omitHealthChecks"])) {
      out[f as keyof typeof out] = r.bool(val, `spec.logging.apiLogging.${f}`) ?? false;
    }
  }
  return Object.freeze(out);
}

function mtlsSpec(r: Reader, node: Node | null): MtlsSpec {
  const v: Record<string, Node | null> = {};
  const known = ["enabled", "workloadCertTTL", "allowedClockSkew", "sentryAddress", "controlPlaneTrustDomain", "tokenValidators"];
  for (const [k, val] of r.entries(node, "spec.mtls", known)) v[k] = val;
  const d = DEFAULT_MTLS;
  const ttl = v.workloadCertTTL !== undefined ? r.duration(v.workloadCertTTL, "spec.mtls.workloadCertTTL", false) : d.workloadCertTtlMs;
  if (ttl !== undefined && ttl < 10_000) r.fail(v.workloadCertTTL!, "spec.mtls.workloadCertTTL", "must be at least 10s");
  return {
    enabled: v.enabled !== undefined ? (r.bool(v.enabled, "spec.mtls.enabled") ?? true) : d.enabled,
    workloadCertTtlMs: ttl ?? d.workloadCertTtlMs,
    allowedClockSkewMs: (v.allowedClockSkew !== undefined ? r.duration(v.allowedClockSkew, "spec.mtls.allowedClockSkew", false) : undefined) ?? d.allowedClockSkewMs,
    sentryAddress: v.sentryAddress !== undefined ? (r.str(v.sentryAddress, "spec.mtls.sentryAddress") ?? null) : null,
    controlPlaneTrustDomain: (v.controlPlaneTrustDomain !== undefined ? r.str(v.controlPlaneTrustDomain, "spec.mtls.controlPlaneTrustDomain") : undefined) ?? d.controlPlaneTrustDomain,
  };
}

/**
 * The first `kind: Configuration` document of `file`: nameResolution, mtls, accessControl, tracing
 * and logging are validated in full (every problem reported with file:line); other sections are
 * left to their features. Throws a ConfigError listing the problems.
 */
export function loadConfiguration(file: string): MeshConfiguration {
  const text = readResourceText(file);
  const lc = new LineCounter();
  const r = new Reader(file, lc);
  let root: YAMLMap | null = null;
  let js: { spec?: { nameResolution?: { configuration?: unknown } } } = {};
  for (const doc of parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false })) {
    if (doc.errors.length) {
      const err = doc.errors[0]!;
      throw new ConfigError(`${file}:${err.linePos?.[0]?.line ?? 0}: invalid YAML: ${err.message.split("\n")[0]}`);
    }
    const c = doc.contents;
    if (c && isMap(c) && (c.get("kind") as unknown) === "Configuration") {
      root = c;
      try {
        // Aliases are expanded here, bounded: the yaml package refuses excessive expansion (a YAML bomb).
        js = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as typeof js;
      } catch (e) {
        throw new ConfigError(`${file}:${lc.linePos(c.range?.[0] ?? 0).line}: invalid YAML: ${(e as Error).message}`);
      }
      break;
    }
  }
  if (!root) throw new ConfigError(`${file}: no document with kind: Configuration`);
  const spec = (root.get("spec", true) as Node | undefined) ?? null;
  const v: Record<string, Node | null> = {};
  for (const [k, val] of r.entries(spec, "spec", null)) v[k] = val;
  const nameResolution = v.nameResolution ? nameResolutionSpec(r, v.nameResolution, js.spec?.nameResolution?.configuration, file) : null;
  const mtls = mtlsSpec(r, v.mtls ?? null);
  const accessControl = parseAccessControl(r, v.accessControl ?? null);
  const tracing = parseTracing(r, v.tracing ?? null);
  const apiLogging = apiLoggingSpec(r, v.logging ?? null);
  const metrics = parseMetrics(r, v.metrics ?? null);
  if (r.problems.length) throw new ConfigError(r.problems.join("\n"));
  return Object.freeze({ nameResolution, mtls, accessControl, trustDomain: accessControl?.trustDomain ?? DEFAULT_TRUST_DOMAIN, tracing, apiLogging, metrics });
}

function nameResolutionSpec(r: Reader, node: Node, configuration: unknown, file: string): NameResolutionSpec | null {
  const v: Record<string, Node | null> = {};
  for (const [k, val] of r.entries(node, "spec.nameResolution", ["component", "version", "configuration"])) v[k] = val;
  const component = v.component !== undefined ? r.str(v.component, "spec.nameResolution.component") : undefined;
  if (v.component === undefined) r.fail(node, "spec.nameResolution.component", "must be a string");
  const conf = configuration ?? {};
  if (conf === null || typeof conf !== "object" || Array.isArray(conf)) {
    r.fail(v.configuration ?? node, "spec.nameResolution.configuration", "must be a mapping");
    return null;
  }
  if (!component) return null;
  return { component, configuration: conf as Record<string, unknown>, source: `${file} (spec.nameResolution)` };
}

/** Components in scope for `appId`, as /v1.0/metadata lists them. */
export function componentsFor(docs: readonly YamlDoc[], appId: string): ComponentSpec[] {
  const out: ComponentSpec[] = [];
  for (const d of docs) {
    if (d.kind !== "Component") continue;
    const meta = (d.data.metadata ?? {}) as Record<string, unknown>;
    const spec = (d.data.spec ?? {}) as Record<string, unknown>;
    const scopes = d.data.scopes;
    if (Array.isArray(scopes) && scopes.length && !scopes.includes(appId)) continue;
    if (typeof meta.name !== "string" || typeof spec.type !== "string") {
      throw new ConfigError(`${d.file}:${d.line}: a Component needs metadata.name and spec.type`);
    }
    const at = `${d.file}:${d.line}`;
    const metadata: Record<string, string> = {};
    const secretRefs: Record<string, { name: string; key: string }> = {};
    for (const m of Array.isArray(spec.metadata) ? (spec.metadata as Array<Record<string, unknown>>) : []) {
      if (!m || typeof m.name !== "string") throw new ConfigError(`${at}: component ${meta.name}: each spec.metadata entry needs a name`);
      const ref = m.secretKeyRef as { name?: unknown; key?: unknown } | undefined;
      if (ref !== undefined) {
        if (!ref || typeof ref.name !== "string") throw new ConfigError(`${at}: component ${meta.name}: metadata ${m.name}: secretKeyRef needs a name`);
        secretRefs[m.name] = { name: ref.name, key: typeof ref.key === "string" ? ref.key : ref.name };
        continue;
      }
      metadata[m.name] = m.value === undefined || m.value === null ? "" : String(m.value);
    }
    const auth = (d.data.auth ?? {}) as { secretStore?: unknown };
    const secretStore = typeof auth.secretStore === "string" ? auth.secretStore : null;
    out.push({ name: meta.name, type: spec.type, version: String(spec.version ?? "v1"), capabilities: [], metadata, secretRefs, secretStore, ignoreErrors: spec.ignoreErrors === true, at });
  }
  return out;
}
