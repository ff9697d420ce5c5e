// `meshlet inject` on parsed documents: every workload whose pod template says
// `dapr.io/enabled: "true"` gets the meshlet sidecar (kube/sidecar.ts) and a headless Service
// `<app-id>-dapr` for the kubernetes resolver; Dapr's Configuration, Resiliency and Component
// documents become the ConfigMaps the sidecar mounts. Injecting twice changes nothing; a sidecar
// from another version is replaced in place; uninject takes it all out again.

import YAML from "yaml";
import type { YamlDoc } from "../config/yaml.ts";
import { MESHLET_VERSION } from "../proxy/config.ts";
import { readAnnotations, type SidecarSettings, wantsSidecar } from "./annotations.ts";
import { APP_ENV, CONTAINER, configMapName, GRPC_PORT, HTTP_PORT, INTERNAL_PORT, RESOURCES_CONFIGMAP, sidecarContainer, sidecarVolumes, VOLUME_PREFIX, type Identity } from "./sidecar.ts";

type Obj = Record<string, unknown>;

export const INJECTED = "meshlet.io/injected";
/** App container env this injection added, as `container/NAME,...`: uninject removes only those. */
export const APP_ENV_ADDED = "meshlet.io/app-env";
export const MANAGED = "meshlet.io/managed";

export interface InjectOptions {
  readonly image: string;
  readonly identity: Identity;
  /** Extra Kubernetes Secrets to mount for components not in the input. */
  readonly secrets?: readonly string[];
  readonly warn: (line: string) => void;
}

export class InjectError extends Error {}

const obj = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const nsOf = (d: Obj) => String(obj(d.metadata).namespace ?? "default");
const isDaprKind = (d: Obj) => typeof d.apiVersion === "string" && d.apiVersion.startsWith("dapr.io/") && ["Configuration", "Resiliency", "Component"].includes(String(d.kind));

/** The pod template (metadata and spec) of a workload document, or null for other kinds. */
export function podTemplate(d: Obj): { metadata: Obj; spec: Obj; selector: Obj | null } | null {
  const spec = obj(d.spec);
  switch (d.kind) {
    case "Pod":
      return { metadata: (d.metadata ??= {}) as Obj, spec, selector: null };
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job": {
      const t = obj(spec.template);
      return { metadata: (t.metadata ??= {}) as Obj, spec: obj(t.spec), selector: obj(obj(spec.selector).matchLabels) };
    }
    case "CronJob": {
      const t = obj(obj(obj(spec.jobTemplate).spec).template);
      return { metadata: (t.metadata ??= {}) as Obj, spec: obj(t.spec), selector: null };
    }
    default:
      return null;
  }
}

/** Takes out a previous injection: the sidecar, its volumes, the env it added, its annotations. */
function strip(spec: Obj, metadata: Obj): void {
  const ann = obj(metadata.annotations);
  spec.containers = list(spec.containers).filter((c) => c.name !== CONTAINER);
  const volumes = list(spec.volumes).filter((v) => !String(v.name).startsWith(VOLUME_PREFIX));
  if (volumes.length) spec.volumes = volumes;
  else delete spec.volumes;
  for (const item of String(ann[APP_ENV_ADDED] ?? "").split(",").filter(Boolean)) {
    const [container, name] = item.split("/");
    const c = list(spec.containers).find((x) => x.name === container);
    if (!c) continue;
    const env = list(c.env).filter((e) => e.name !== name);
    if (env.length) c.env = env;
    else delete c.env;
  }
  delete ann[INJECTED];
  delete ann[APP_ENV_ADDED];
}

/** Components inside an earlier run's resources ConfigMaps (so injecting its output again mounts the same Secrets). */
function managedComponents(docs: readonly YamlDoc[]): Obj[] {
  const out: Obj[] = [];
  for (const d of docs) {
    if (d.kind !== "ConfigMap" || !isManaged(d.data) || obj(d.data.metadata).name !== RESOURCES_CONFIGMAP) continue;
    for (const text of Object.values(obj(d.data.data))) {
      const c = obj(YAML.parse(String(text)));
      if (c.kind === "Component") out.push({ ...c, metadata: { ...obj(c.metadata), namespace: nsOf(c) === "default" ? nsOf(d.data) : nsOf(c) } });
    }
  }
  return out;
}

/** The Secrets the components in the input read for `appId` through the kubernetes secret store. */
function componentSecrets(components: readonly Obj[], appId: string, namespace: string): string[] {
  const out = new Set<string>();
  for (const c of components) {
    if (nsOf(c) !== namespace) continue;
    const scopes = c.scopes;
    if (Array.isArray(scopes) && scopes.length && !scopes.includes(appId)) continue;
    const store = obj(c.auth).secretStore;
    if (store !== undefined && store !== "kubernetes") continue;
    for (const m of list(obj(c.spec).metadata)) {
      const ref = obj(m.secretKeyRef);
      if (typeof ref.name === "string") out.add(ref.name);
    }
  }
  return [...out].sort();
}

function service(appId: string, namespace: string, selector: Obj, metrics: number | null): Obj {
  const ports: Obj[] = [
    { name: "dapr-http", port: HTTP_PORT, targetPort: HTTP_PORT, protocol: "TCP" },
    { name: "dapr-grpc", port: GRPC_PORT, targetPort: GRPC_PORT, protocol: "TCP" },
    // The kubernetes resolver asks for SRV _dapr-internal._tcp.<app-id>-dapr.<namespace>.svc.
    { name: "dapr-internal", port: INTERNAL_PORT, targetPort: INTERNAL_PORT, protocol: "TCP" },
  ];
  if (metrics !== null) ports.push({ name: "dapr-metrics", port: metrics, targetPort: metrics, protocol: "TCP" });
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: `${appId}-dapr`, namespace, labels: { [MANAGED]: "true", "dapr.io/app-id": appId } },
    spec: { clusterIP: "None", selector, ports },
  };
}

const configMap = (name: string, namespace: string, data: Record<string, string>): Obj => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, labels: { [MANAGED]: "true" } },
  data,
});

const isManaged = (d: Obj) => obj(obj(d.metadata).labels)[MANAGED] === "true";
const key = (d: Obj) => `${String(d.kind)}/${nsOf(d)}/${String(obj(d.metadata).name)}`;

/**
 * Adds the sidecar to one pod template (after taking out an earlier one) and returns its
 * settings. `name` is the app-id when the annotations give none; `components` are the Dapr
 * Components known for the pod's namespace (their Kubernetes Secrets are mounted).
 */
export function injectTemplate(
  t: { metadata: Obj; spec: Obj },
  w: { where: string; name: string; namespace: string; components: readonly Obj[] },
  o: InjectOptions,
): SidecarSettings {
  const ann = obj(t.metadata.annotations);
  if (list(t.spec.containers).filter((c) => c.name !== CONTAINER).length === 0) throw new InjectError(`${w.where}: the pod template has no containers`);
  const s = readAnnotations(ann, w.where, w.name, o.warn);
  strip(t.spec, t.metadata);
  const secrets = [...new Set([...componentSecrets(w.components, s.appId, w.namespace), ...(o.secrets ?? [])])].sort();
  const opts = { image: o.image, identity: o.identity, secrets, resources: true };
  const { volumes, mounts } = sidecarVolumes(s, opts);
  const added: string[] = [];
  for (const c of list(t.spec.containers)) {
    const env = list(c.env);
    for (const e of APP_ENV) {
      if (env.some((x) => x.name === e.name)) continue;
      env.push({ ...e });
      added.push(`${String(c.name)}/${e.name}`);
    }
    c.env = env;
  }
  t.spec.containers = [...list(t.spec.containers), sidecarContainer(s, opts, mounts)];
  t.spec.volumes = [...list(t.spec.volumes), ...volumes];
  const annotations = (t.metadata.annotations ??= {}) as Obj;
  annotations[INJECTED] = MESHLET_VERSION;
  if (added.length) annotations[APP_ENV_ADDED] = added.join(",");
  return s;
}

/** Every document, with sidecars injected and Dapr's documents as ConfigMaps; throws InjectError or AnnotationError, writing nothing. */
export function injectDocs(docs: readonly YamlDoc[], o: InjectOptions): Obj[] {
  const components = [...docs.filter((d) => d.kind === "Component" && isDaprKind(d.data)).map((d) => d.data), ...managedComponents(docs)];
  /** Documents meshlet makes, by kind/namespace/name: out holds their keys where they go. */
  const made = new Map<string, Obj>();
  const out: Array<Obj | string> = [];
  const place = (k: string) => void (out.includes(k) || out.push(k));
  const resources = new Map<string, Record<string, string>>();
  /** Which workload a Service was made for: two workloads with one app-id share the first's. */
  const serviceFor = new Map<string, string>();
  for (const doc of docs) {
    const d = structuredClone(doc.data);
    const where = `${doc.file}:${doc.line}: ${doc.kind || "document"} ${String(obj(d.metadata).name ?? "")}`.trim();
    if (isDaprKind(d)) {
      const name = String(obj(d.metadata).name ?? "");
      if (!name) throw new InjectError(`${where}: needs metadata.name`);
      if (d.kind === "Configuration") {
        const cm = configMap(configMapName(name), nsOf(d), { "config.yaml": YAML.stringify(d) });
        made.set(key(cm), cm);
        place(key(cm));
      } else {
        const ns = nsOf(d);
        if (!resources.has(ns)) resources.set(ns, {});
        place(`ConfigMap/${ns}/${RESOURCES_CONFIGMAP}`);
        resources.get(ns)![`${String(d.kind).toLowerCase()}-${name}.yaml`] = YAML.stringify(d);
      }
      continue;
    }
    // A Service or ConfigMap made by an earlier injection is made again from this input.
    // (What this input makes wins over what the earlier run made.)
    if (isManaged(d) && (d.kind === "Service" || d.kind === "ConfigMap")) {
      if (!made.has(key(d))) made.set(key(d), d);
      place(key(d));
      continue;
    }
    out.push(d);
    const t = podTemplate(d);
    if (!t) continue;
    const ann = obj(t.metadata.annotations);
    if (!wantsSidecar(ann)) {
      if (ann[INJECTED] !== undefined) strip(t.spec, t.metadata);
      continue;
    }
    const namespace = nsOf(d);
    const s = injectTemplate(t, { where, name: String(obj(d.metadata).name ?? ""), namespace, components }, o);
    const selector = t.selector && Object.keys(t.selector).length ? t.selector : obj(t.metadata.labels);
    if (Object.keys(selector).length === 0) throw new InjectError(`${where}: the pods need labels, for the ${s.appId}-dapr Service to select them`);
    const svc = service(s.appId, namespace, selector, s.metrics ? s.metricsPort : null);
    const owner = serviceFor.get(key(svc));
    if (owner !== undefined) {
      o.warn(`${where}: app-id ${s.appId} is also ${owner}'s in ${namespace}; the ${s.appId}-dapr Service selects that workload's pods only`);
      continue;
    }
    serviceFor.set(key(svc), where);
    made.set(key(svc), svc);
    place(key(svc));
  }
  for (const [ns, data] of resources) {
    const k = `ConfigMap/${ns}/${RESOURCES_CONFIGMAP}`;
    // Documents already in an earlier run's ConfigMap stay, unless this input brings them again.
    const earlier = obj(made.get(k)?.data) as Record<string, string>;
    made.set(k, configMap(RESOURCES_CONFIGMAP, ns, { ...earlier, ...data }));
  }
  return out.map((x) => (typeof x === "string" ? made.get(x)! : x));
}

/**
 * Every document with meshlet taken out: sidecars, their volumes and env, the Services it made,
 * and its ConfigMaps turned back into the Dapr documents they were made from.
 */
export function uninjectDocs(docs: readonly YamlDoc[]): Obj[] {
  const out: Obj[] = [];
  for (const doc of docs) {
    const d = structuredClone(doc.data);
    if (isManaged(d) && d.kind === "Service") continue;
    if (isManaged(d) && d.kind === "ConfigMap") {
      for (const text of Object.values(obj(d.data))) out.push(obj(YAML.parse(String(text))));
      continue;
    }
    const t = podTemplate(d);
    if (t) strip(t.spec, t.metadata);
    out.push(d);
  }
  return out;
}
