// A "cluster" of network namespaces running the manifest `meshlet inject` makes for the seed's
// hello-kubernetes apps: each pod is a namespace with its own address, so the sidecar runs with
// the manifest's own args, ports and env unchanged (only mount paths become folders); a DNS
// server plays cluster DNS for the headless Services the manifest declares, and Redis the
// redis-master Service. pythonapp posts an order a second to nodeapp by app-id, over mTLS
// across namespaces, and nodeapp saves it in Redis with the password from the mounted Secret.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { BUN, killAll, MESHLET, ROOT, spawnProc, StopWaiting, waitFor, type Proc, expectOutput } from "../helpers.ts";
import { canUseNetns } from "../netns.ts";
import { hasRedis } from "../redis.ts";
import { testCa } from "../certs.ts";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const can = canUseNetns().ok && hasRedis() && fs.existsSync("/usr/bin/curl");
const tag = `mc${process.pid % 10000}`;
const ip = (...a: string[]) => execFileSync("ip", a, { stdio: ["ignore", "ignore", "pipe"] });
const inNs = (ns: string, cmd: string[]) => execFileSync("ip", ["netns", "exec", ns, ...cmd], { encoding: "utf8", timeout: 10_000 });
const namespaces: string[] = [];
const procs: Proc[] = [];

const REDIS_PASSWORD = "from-the-secret";

/** A pod: a namespace on the cluster bridge with its own address and cluster DNS. */
function pod(name: string, addr: string, dnsAddr: string): string {
  const ns = `${tag}${name}`;
  ip("netns", "add", ns);
  namespaces.push(ns);
  ip("-n", ns, "link", "set", "lo", "up");
  // Interface names stay under 16 bytes: the tag and the pod's number.
  const n = namespaces.length;
  ip("link", "add", `${tag}p${n}`, "netns", ns, "type", "veth", "peer", "name", `${tag}b${n}`, "netns", `${tag}br`);
  ip("-n", ns, "addr", "add", `${addr}/24`, "dev", `${tag}p${n}`);
  ip("-n", ns, "link", "set", `${tag}p${n}`, "up");
  ip("-n", `${tag}br`, "link", "set", `${tag}b${n}`, "master", "br0", "up");
  // `ip netns exec` puts this file over /etc/resolv.conf: the pod's cluster DNS, as kubelet writes it.
  fs.mkdirSync(`/etc/netns/${ns}`, { recursive: true });
  fs.writeFileSync(`/etc/netns/${ns}/resolv.conf`, `nameserver ${dnsAddr}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
  return ns;
}

function start(ns: string, cmd: string[], env: Record<string, string>): Proc {
  const p = spawnProc("ip", ["netns", "exec", ns, ...cmd], env);
  procs.push(p);
  return p;
}

let docs: Obj[];
const IPS: Record<string, string> = { nodeapp: "10.77.0.2", pythonapp: "10.77.0.3" };
const SVC_IP = "10.77.0.4";
let nodeNs: string;
let svcNs: string;

beforeAll(async () => {
  if (!can) return;
  const injected = execFileSync(MESHLET, ["inject", path.join(ROOT, "test", "k8s", "hello-kubernetes.yaml"), "--cert-secret", "meshlet-certs"], { encoding: "utf8" });
  docs = YAML.parseAllDocuments(injected).map((d) => d.toJS() as Obj);
  ip("netns", "add", `${tag}br`);
  namespaces.push(`${tag}br`);
  ip("-n", `${tag}br`, "link", "add", "br0", "type", "bridge");
  ip("-n", `${tag}br`, "link", "set", "br0", "up");
  svcNs = pod("svc", SVC_IP, SVC_IP);
  // Cluster DNS from the manifest: each <app-id>-dapr Service's dapr-internal port on the pods it selects.
  const records: Array<Record<string, unknown>> = [{ name: "redis-master.default.svc.cluster.local", type: "A", ttl: 30, data: SVC_IP }];
  for (const svc of docs.filter((d) => d.kind === "Service" && d.metadata.name.endsWith("-dapr"))) {
    const workload = docs.find((d) => d.kind === "Deployment" && Object.entries(svc.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v))!;
    const name = `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`;
    const port = svc.spec.ports.find((p: Obj) => p.name === "dapr-internal").port;
    records.push({ name: `_dapr-internal._tcp.${name}`, type: "SRV", ttl: 5, data: { port, target: `${workload.metadata.name}-0.${name}` } });
    records.push({ name: `${workload.metadata.name}-0.${name}`, type: "A", ttl: 5, data: IPS[workload.metadata.name] });
  }
  const dns = start(svcNs, [BUN, path.join(ROOT, "test", "dns-serve.ts"), SVC_IP, "53", JSON.stringify(records)], {});
  start(svcNs, ["redis-server", "--bind", SVC_IP, "--port", "6379", "--requirepass", REDIS_PASSWORD, "--save", "", "--appendonly", "no"], {});
  await waitFor("cluster DNS", async () => dns.output().includes("ready"));
  const ca = await testCa();
  for (const d of docs.filter((x) => x.kind === "Deployment")) {
    const name: string = d.metadata.name;
    const ns = pod(name, IPS[name]!, SVC_IP);
    if (name === "nodeapp") nodeNs = ns;
    const spec = d.spec.template.spec;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `meshlet-pod-${name}-`));
    const sidecar = spec.containers.find((c: Obj) => c.name === "meshlet");
    const mount = (volume: string) => path.join(root, sidecar.volumeMounts.find((m: Obj) => m.name === volume).mountPath);
    // The volumes, as the kubelet would fill them.
    const cm = docs.find((x) => x.kind === "ConfigMap" && x.metadata.name === spec.volumes.find((v: Obj) => v.name === "meshlet-resources").configMap.name)!;
    fs.mkdirSync(mount("meshlet-resources"), { recursive: true });
    for (const [file, text] of Object.entries(cm.data as Record<string, string>)) fs.writeFileSync(path.join(mount("meshlet-resources"), file), text);
    const issued = await ca.issue(sidecar.args[sidecar.args.indexOf("--app-id") + 1]);
    fs.mkdirSync(mount("meshlet-certs"), { recursive: true });
    fs.writeFileSync(path.join(mount("meshlet-certs"), "tls.crt"), issued.chainPem);
    fs.writeFileSync(path.join(mount("meshlet-certs"), "tls.key"), issued.keyPem);
    fs.writeFileSync(path.join(mount("meshlet-certs"), "ca.crt"), ca.trustPem);
    fs.mkdirSync(mount("meshlet-secret-redis"), { recursive: true });
    fs.writeFileSync(path.join(mount("meshlet-secret-redis"), "redis-password"), REDIS_PASSWORD);
    // The sidecar: the manifest's args (mount paths under the pod folder) and env (downward API filled in).
    const field: Record<string, string> = { "metadata.namespace": "default", "metadata.name": `${name}-0`, "status.podIP": IPS[name]! };
    const envOf = (c: Obj) => Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value !== undefined ? (String(e.value).startsWith("/") ? path.join(root, e.value) : String(e.value)) : field[e.valueFrom.fieldRef.fieldPath]]));
    const args = (sidecar.args as string[]).map((a) => (a.startsWith("/") ? path.join(root, a) : a));
    start(ns, [MESHLET, ...args], { ...envOf(sidecar), KUBERNETES_SERVICE_HOST: "10.96.0.1", MESHLET_REGISTRY_DIR: path.join(root, "registry") });
    // The app container: the seed's apps, with the env the manifest gives them.
    const app = spec.containers.find((c: Obj) => c.name !== "meshlet");
    const command = name === "nodeapp" ? ["node", path.join(ROOT, "test", "apps", "order-node.mjs")] : ["python3", path.join(ROOT, "test", "apps", "order-poster.py")];
    start(ns, command, { ...envOf(app), ORDER_INTERVAL_MS: "300" });
  }
}, 60_000);

afterAll(async () => {
  await killAll();
  for (const ns of namespaces.reverse()) {
    try {
      ip("netns", "del", ns);
    } catch {
      // already gone
    }
    fs.rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
});

describe.skipIf(!can)("hello-kubernetes from the injected manifest, in network-namespace pods", () => {
  it("pythonapp's orders reach nodeapp by app-id through cluster DNS and mTLS, and land in Redis", async () => {
    const order = await waitFor(
      "orders saved through nodeapp",
      async () => {
        for (const p of procs) if (p.child.exitCode !== null && !p.output().includes("ready")) throw new StopWaiting(`a pod process exited:\n${p.output()}`);
        const text = inNs(nodeNs, ["curl", "-s", "http://localhost:3500/v1.0/invoke/nodeapp/method/order"]);
        const o = text ? (JSON.parse(text) as { orderId?: number }) : null;
        return o && (o.orderId ?? 0) >= 2 ? o : null;
      },
      30_000,
    );
    expect(order.orderId).toBeGreaterThanOrEqual(2);
    const hash = inNs(svcNs, ["redis-cli", "-h", SVC_IP, "-a", REDIS_PASSWORD, "--no-auth-warning", "HGETALL", "nodeapp||order"]).trim().split("\n");
    expect([hash[0], hash[2]]).toEqual(["data", "version"]);
    // pythonapp's own log says the same (its first orders may find its sidecar not up yet).
    // Looked up inside the wait: the curl above runs synchronously, so the pipes may not have been read yet.
    await waitFor("pythonapp to log a 200", async () => procs.some((p) => p.output().includes("order 1:") && /order \d+: 200/.test(p.output())));
    // Both sidecars found each other through the kubernetes resolver (in-cluster), over mTLS.
    const sidecars = procs.filter((p) => p.output().includes("Starting meshlet with id"));
    expect(sidecars).toHaveLength(2);
    for (const p of sidecars) {
      await expectOutput(p, "name resolution: kubernetes: no nameResolution in the configuration, running in a Kubernetes pod");
      await expectOutput(p, /mtls as spiffe:\/\/public\/ns\/default\/(nodeapp|pythonapp) \(cert-manager files in/);
    }
  });
});
