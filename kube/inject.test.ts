// meshlet inject on a corpus of manifests: the hello-kubernetes apps, every workload kind, Dapr's
// annotations, re-injection (nothing changes), upgrade in place, uninject, and bad input.

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { parseYamlText } from "../config/yaml.ts";
import { injectDocs, uninjectDocs } from "./inject.ts";

const HELLO = fs.readFileSync(path.join(import.meta.dirname, "..", "test", "k8s", "hello-kubernetes.yaml"), "utf8");
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function run(text: string, o: { warn?: (l: string) => void; identity?: { certSecret: string } | { sentryAddress: string; tokenSecret: string } } = {}): Obj[] {
  return injectDocs(parseYamlText(text, "in.yaml"), { image: "meshlet:test", identity: o.identity ?? { certSecret: "meshlet-certs" }, warn: o.warn ?? (() => {}) });
}
const again = (docs: Obj[], f: (t: string) => Obj[]) => f(docs.map((d) => YAML.stringify(d)).join("---\n"));
const find = (docs: Obj[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata?.name === name);
const sidecarOf = (pod: Obj) => pod.containers.find((c: Obj) => c.name === "meshlet");
const arg = (c: Obj, flag: string) => (c.args.includes(flag) ? (c.args[c.args.indexOf(flag) + 1] as string) : undefined);

describe("meshlet inject: the hello-kubernetes apps", () => {
  const out = run(HELLO);
  const node = find(out, "Deployment", "nodeapp")!.spec.template;
  const python = find(out, "Deployment", "pythonapp")!.spec.template;

  it("adds the sidecar with Dapr's settings, env from the downward API, exec probes and a locked-down container", () => {
    const c = sidecarOf(node.spec);
    expect(c.image).toBe("meshlet:test");
    expect([arg(c, "--app-id"), arg(c, "--app-port"), arg(c, "--dapr-http-port"), arg(c, "--dapr-internal-grpc-port"), arg(c, "--cert-dir")]).toEqual(["nodeapp", "3000", "3500", "50002", "/var/run/meshlet/certs"]);
    expect(c.args).toContain("--enable-api-logging");
    expect(c.env.filter((e: Obj) => e.valueFrom).map((e: Obj) => [e.name, e.valueFrom.fieldRef.fieldPath])).toEqual([
      ["NAMESPACE", "metadata.namespace"],
      ["POD_NAME", "metadata.name"],
      ["POD_IP", "status.podIP"],
    ]);
    expect(c.readinessProbe.exec.command).toEqual(["/usr/local/bin/meshlet", "health"]);
    expect(c.livenessProbe.exec.command).toEqual(["/usr/local/bin/meshlet", "health", "--outbound"]);
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(c.ports.map((p: Obj) => `${p.name}:${p.containerPort}`)).toEqual(["dapr-http:3500", "dapr-grpc:50001", "dapr-internal:50002", "dapr-metrics:9090"]);
    // pythonapp has no app port: a sidecar that only calls out.
    expect(arg(sidecarOf(python.spec), "--app-port")).toBeUndefined();
  });

  it("gives the app containers DAPR_HTTP_PORT, DAPR_GRPC_PORT and DAPR_HTTP_ENDPOINT, keeping their own env", () => {
    const env = node.spec.containers[0].env.map((e: Obj) => `${e.name}=${e.value}`);
    expect(env).toEqual(["APP_PORT=3000", "DAPR_HTTP_PORT=3500", "DAPR_GRPC_PORT=50001", "DAPR_HTTP_ENDPOINT=http://localhost:3500", "DAPR_GRPC_ENDPOINT=http://localhost:50001"]);
  });

  it("makes the headless Service the kubernetes resolver asks, per app-id", () => {
    const svc = find(out, "Service", "nodeapp-dapr")!;
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.selector).toEqual({ app: "node" });
    expect(svc.spec.ports.find((p: Obj) => p.name === "dapr-internal")).toMatchObject({ port: 50002, targetPort: 50002 });
    expect(find(out, "Service", "pythonapp-dapr")!.spec.selector).toEqual({ app: "python" });
    // The app's own Service passes through untouched.
    expect(find(out, "Service", "nodeapp")!.spec.type).toBe("LoadBalancer");
  });

  it("turns the Component into the mounted resources ConfigMap, and mounts the Secret its secretKeyRef names", () => {
    expect(out.some((d) => d.kind === "Component")).toBe(false);
    const cm = find(out, "ConfigMap", "meshlet-resources")!;
    expect(YAML.parse(cm.data["component-statestore.yaml"]).spec.type).toBe("state.redis");
    const c = sidecarOf(node.spec);
    expect(arg(c, "--resources-path")).toBe("/etc/meshlet/resources");
    expect(c.volumeMounts).toContainEqual({ name: "meshlet-secret-redis", mountPath: "/var/run/meshlet/secrets/redis", readOnly: true });
    expect(node.spec.volumes).toContainEqual({ name: "meshlet-secret-redis", secret: { secretName: "redis", defaultMode: 0o400 } });
  });

  it("changes nothing when run again on its own output; uninject gives the workloads back as they were", () => {
    expect(again(out, (t) => run(t))).toEqual(out);
    const un = again(out, (t) => uninjectDocs(parseYamlText(t, "out.yaml")));
    const original = parseYamlText(HELLO, "in.yaml").map((d) => d.data);
    for (const name of ["nodeapp", "pythonapp"]) expect(find(un, "Deployment", name)).toEqual(find(original, "Deployment", name));
    // The ConfigMap is the Component again.
    expect(find(un, "Component", "statestore")).toEqual(find(original, "Component", "statestore"));
    expect(un).toHaveLength(original.length);
    expect(un.some((d) => d.metadata?.name?.endsWith("-dapr"))).toBe(false);
    expect(again(un, (t) => uninjectDocs(parseYamlText(t, "u.yaml")))).toEqual(un);
  });

  it("takes a sentry address and token Secret as the identity source instead", () => {
    const o = run(HELLO, { identity: { sentryAddress: "meshlet-sentry.meshlet:50001", tokenSecret: "join" } });
    const c = sidecarOf(find(o, "Deployment", "nodeapp")!.spec.template.spec);
    expect(arg(c, "--sentry-address")).toBe("meshlet-sentry.meshlet:50001");
    expect(c.env).toContainEqual({ name: "DAPR_SENTRY_TOKEN_FILE", value: "/var/run/meshlet/sentry/token" });
  });
});

const pod = (annotations: Record<string, string>, extra = "") => `
      metadata:
        labels: {app: w}
        annotations: ${JSON.stringify({ "dapr.io/enabled": "true", ...annotations })}
      spec:
        containers: [{name: app, image: x}]${extra}`;

describe("meshlet inject: every workload kind, and the rest passes through", () => {
  it("injects Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and Pods; leaves others and unannotated ones alone", () => {
    const text = [
      `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec:\n  selector: {matchLabels: {app: w}}\n  template:${pod({ "dapr.io/app-id": "db" })}`,
      `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: w}}\n  template:${pod({})}`,
      `apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:${pod({ "dapr.io/app-id": "once" })}`,
      `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: "0 0 * * *"\n  jobTemplate:\n    spec:\n      template:${pod({ "dapr.io/app-id": "nightly" }).replace(/\n {6}/g, "\n          ")}`,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: solo, labels: {app: solo}, annotations: {dapr.io/enabled: "true"}}\nspec:\n  containers: [{name: app, image: x}]`,
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: plain}\nspec:\n  selector: {matchLabels: {app: p}}\n  template:\n    metadata: {labels: {app: p}}\n    spec:\n      containers: [{name: app, image: x}]`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}`,
    ].join("\n---\n");
    const out = run(text);
    expect(out.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      "StatefulSet/db", "Service/db-dapr", "DaemonSet/agent", "Service/agent-dapr", "Job/once", "Service/once-dapr",
      "CronJob/nightly", "Service/nightly-dapr", "Pod/solo", "Service/solo-dapr", "Deployment/plain", "ConfigMap/settings",
    ]);
    expect(find(out, "Service", "db-dapr")!.metadata.namespace).toBe("shop");
    expect(sidecarOf(find(out, "CronJob", "nightly")!.spec.jobTemplate.spec.template.spec)).toBeTruthy();
    expect(arg(sidecarOf(find(out, "Pod", "solo")!.spec), "--app-id")).toBe("solo"); // the name, as Dapr defaults it
    expect(find(out, "Deployment", "plain")).toEqual(parseYamlText(text, "x").find((d) => d.data.metadata && (d.data.metadata as Obj).name === "plain")!.data);
    expect(again(out, (t) => run(t))).toEqual(out);
  });

  it("honours Dapr's annotations and warns about the ones it does not use", () => {
    const warnings: string[] = [];
    const text = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tuned}\nspec:\n  selector: {matchLabels: {app: w}}\n  template:${pod({
      "dapr.io/app-id": "tuned",
      "dapr.io/app-port": "8080",
      "dapr.io/config": "tracing",
      "dapr.io/log-level": "debug",
      "dapr.io/log-as-json": "true",
      "dapr.io/enable-metrics": "false",
      "dapr.io/sidecar-cpu-request": "100m",
      "dapr.io/sidecar-cpu-limit": "1",
      "dapr.io/sidecar-memory-request": "64Mi",
      "dapr.io/sidecar-memory-limit": "128Mi",
      "dapr.io/http-max-request-size": "16",
      "dapr.io/env": "GOMAXPROCS=1,EXTRA=a=b",
      "dapr.io/enable-app-health-check": "true",
      "dapr.io/app-health-check-path": "/ready",
      "dapr.io/placement-host-address": "x",
    })}`;
    const c = sidecarOf(run(text, { warn: (l) => warnings.push(l) })[0]!.spec.template.spec);
    expect([arg(c, "--app-port"), arg(c, "--config"), arg(c, "--log-level"), arg(c, "--max-body-size"), arg(c, "--app-health-check-path")]).toEqual(["8080", "/etc/meshlet/config/config.yaml", "debug", "16Mi", "/ready"]);
    expect(c.args).toEqual(expect.arrayContaining(["--log-as-json", "--enable-metrics=false", "--enable-app-health-check"]));
    expect(c.ports.map((p: Obj) => p.name)).not.toContain("dapr-metrics");
    expect(c.resources).toEqual({ requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } });
    expect(c.env).toEqual(expect.arrayContaining([{ name: "GOMAXPROCS", value: "1" }, { name: "EXTRA", value: "a=b" }]));
    expect(c.volumeMounts).toContainEqual({ name: "meshlet-config", mountPath: "/etc/meshlet/config", readOnly: true });
    expect(warnings).toEqual(["in.yaml:1: Deployment tuned: annotation dapr.io/placement-host-address is not used by meshlet; ignored"]);
  });

  it("turns a Configuration into the ConfigMap dapr.io/config names", () => {
    const out = run(`apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: tracing}\nspec:\n  tracing: {samplingRate: "1"}`);
    expect(out).toEqual([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "meshlet-config-tracing", namespace: "default", labels: { "meshlet.io/managed": "true" } }, data: { "config.yaml": expect.stringContaining("samplingRate") } }]);
  });

  it("upgrades a sidecar from another version in place, never a second one", () => {
    const old = run(`apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  selector: {matchLabels: {app: w}}\n  template:${pod({})}`)[0]!;
    const c = sidecarOf(old.spec.template.spec);
    c.image = "meshlet:0.0.1";
    c.args.push("--obsolete-flag");
    old.spec.template.metadata.annotations["meshlet.io/injected"] = "0.0.1";
    const up = again([old], (t) => run(t))[0]!;
    expect(up.spec.template.spec.containers.filter((x: Obj) => x.name === "meshlet")).toHaveLength(1);
    expect(sidecarOf(up.spec.template.spec).image).toBe("meshlet:test");
    expect(sidecarOf(up.spec.template.spec).args).not.toContain("--obsolete-flag");
  });

  it("refuses bad annotations and unusable workloads with file:line and the workload's name", () => {
    const bad = (annotations: Record<string, string>) => () => run(`apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  selector: {matchLabels: {app: w}}\n  template:${pod(annotations)}`);
    expect(bad({ "dapr.io/app-port": "abc" })).toThrow('in.yaml:1: Deployment w: annotation dapr.io/app-port: "abc" is not a port (1-65535)');
    expect(bad({ "dapr.io/app-id": "a.b" })).toThrow(/annotation dapr.io\/app-id: "a.b" is not a valid app-id/);
    expect(bad({ "dapr.io/sidecar-memory-limit": "lots" })).toThrow(/"lots" is not a memory quantity/);
    expect(bad({ "dapr.io/log-as-json": "yes" })).toThrow(/"yes" is not "true" or "false"/);
    expect(bad({ "dapr.io/env": "=x" })).toThrow(/annotation dapr.io\/env: "=x" is not NAME=value/);
    expect(() => run(`apiVersion: v1\nkind: Pod\nmetadata: {name: nolabels, annotations: {dapr.io/enabled: "true"}}\nspec:\n  containers: [{name: a, image: x}]`)).toThrow("in.yaml:1: Pod nolabels: the pods need labels, for the nolabels-dapr Service to select them");
  });
});

describe("everything meshlet inject writes validates against Kubernetes' schemas", () => {
  it("the hello-kubernetes output, every workload kind and both identity sources", async () => {
    const { validateK8s } = await import("../test/k8s-schema.ts");
    const corpus = [
      ...run(HELLO),
      ...run(HELLO, { identity: { sentryAddress: "meshlet-sentry.meshlet:50001", tokenSecret: "join" } }),
      ...run(`apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: "0 0 * * *"\n  jobTemplate:\n    spec:\n      template:\n        metadata: {labels: {app: n}, annotations: {dapr.io/enabled: "true", dapr.io/sidecar-cpu-limit: "500m", dapr.io/sidecar-memory-limit: "64Mi"}}\n        spec:\n          restartPolicy: Never\n          containers: [{name: app, image: x}]`),
      ...run(`apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}, annotations: {dapr.io/enabled: "true", dapr.io/config: "tracing"}}\n    spec:\n      containers: [{name: app, image: x}]`),
    ];
    for (const doc of corpus) await validateK8s(doc);
    // And the check itself catches a bad document.
    const broken = structuredClone(corpus.find((d) => d.kind === "Deployment")!);
    broken.spec.template.spec.containers[1].ports[0].containerPort = "3500";
    await expect(validateK8s(broken)).rejects.toThrow(/Deployment nodeapp: .*containerPort must be integer/);
  });
});
