// `meshlet inject` as a user drives it (files, folders, stdin; one line for every mistake, never a
// half-written manifest), and the injected hello-kubernetes manifest run for real on this host:
// the sidecar container's own args and env, its mounts played by folders (the resources
// ConfigMap's files, cert-manager's certificate files, the mounted Redis Secret), against a real
// Redis. Only the cluster's addresses are swapped for local ones.

import { afterAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { freePort, killAll, MESHLET, ROOT, spawnProc, tempHome, waitFor, type Proc, expectOutput } from "../helpers.ts";
import { testCa } from "../certs.ts";
import { hasRedis, startRedis } from "../redis.ts";

afterAll(killAll);
const HELLO = path.join(ROOT, "test", "k8s", "hello-kubernetes.yaml");
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function meshlet(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; out: string }> {
  const p = spawnProc(MESHLET, args, { MESHLET_HOME: tempHome() }, undefined, stdin ?? "");
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), out: p.output() };
}

describe("meshlet inject on the command line", () => {
  it("reads files, folders and stdin alike, and says every mistake in one line with nothing on stdout", async () => {
    const fromFile = await meshlet(["inject", HELLO, "--cert-secret", "certs"]);
    expect(fromFile.code).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-inject-"));
    fs.copyFileSync(HELLO, path.join(dir, "app.yaml"));
    expect((await meshlet(["inject", dir, "--cert-secret", "certs"])).stdout).toBe(fromFile.stdout);
    expect((await meshlet(["inject", "-", "--cert-secret", "certs"], fs.readFileSync(HELLO, "utf8"))).stdout).toBe(fromFile.stdout);
    expect(YAML.parseAllDocuments(fromFile.stdout).map((d) => `${d.get("kind")}/${(d.get("metadata") as YAML.YAMLMap).get("name")}`)).toEqual([
      "ConfigMap/meshlet-resources", "Service/nodeapp", "Deployment/nodeapp", "Service/nodeapp-dapr", "Deployment/pythonapp", "Service/pythonapp-dapr",
    ]);

    fs.writeFileSync(path.join(dir, "broken.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: [oops\n");
    const cases: Array<[string[], string | undefined, string]> = [
      [["inject", HELLO], undefined, "❌  the sidecars need an identity source shared by the cluster: --sentry-address ADDR --sentry-token-secret NAME, or --cert-secret NAME"],
      [["inject", HELLO, "--sentry-address", "s:1"], undefined, "❌  --sentry-address needs --sentry-token-secret: the Secret holding the join token"],
      [["inject", dir, "--cert-secret", "c"], undefined, `❌  ${path.join(dir, "broken.yaml")}:4: invalid YAML: `],
      [["inject", "-", "--cert-secret", "c"], fs.readFileSync(HELLO, "utf8").replace('dapr.io/app-port: "3000"', 'dapr.io/app-port: "abc"'), '❌  <stdin>:37: Deployment nodeapp: annotation dapr.io/app-port: "abc" is not a port (1-65535)'],
      [["inject", "/no/such.yaml", "--cert-secret", "c"], undefined, "❌  /no/such.yaml: no such file or folder"],
    ];
    for (const [args, stdin, line] of cases) {
      const r = await meshlet(args, stdin);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.out.startsWith(line), r.out).toBe(true);
      expect(r.out.trim().split("\n")).toHaveLength(1);
    }
    const un = await meshlet(["inject", "--uninject", "-"], fromFile.stdout);
    expect(un.stdout).not.toContain("meshlet");
    expect(un.stdout).toContain("kind: Component");
  });
});

describe.skipIf(!hasRedis())("the injected hello-kubernetes sidecar, run as the manifest says", () => {
  it("starts nodeapp's sidecar from its container args and env, loads the statestore with the password from the mounted Secret, and saves to Redis", async () => {
    const redis = await startRedis("from-the-secret");
    const out = (await meshlet(["inject", HELLO, "--cert-secret", "meshlet-certs"])).stdout;
    const docs = YAML.parseAllDocuments(out).map((d) => d.toJS() as Obj);
    const node = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "nodeapp")!.spec.template.spec;
    const sidecar = node.containers.find((c: Obj) => c.name === "meshlet");
    const cm = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name === "meshlet-resources")!;
    // The pod's mounts, as folders: the ConfigMap's files, cert-manager's Secret, the Redis Secret.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-pod-"));
    const mountOf = (volume: string) => path.join(root, sidecar.volumeMounts.find((m: Obj) => m.name === volume).mountPath);
    const resources = mountOf("meshlet-resources");
    fs.mkdirSync(resources, { recursive: true });
    for (const [file, text] of Object.entries(cm.data as Record<string, string>)) {
      // The cluster's Redis address is the one thing swapped: for this host's test Redis.
      fs.writeFileSync(path.join(resources, file), text.replace("redis-master.default.svc.cluster.local:6379", redis.address));
    }
    const certs = mountOf("meshlet-certs");
    fs.mkdirSync(certs, { recursive: true });
    const ca = await testCa();
    const issued = await ca.issue("nodeapp");
    fs.writeFileSync(path.join(certs, "tls.crt"), issued.chainPem);
    fs.writeFileSync(path.join(certs, "tls.key"), issued.keyPem);
    fs.writeFileSync(path.join(certs, "ca.crt"), ca.trustPem);
    const secrets = path.join(root, "var/run/meshlet/secrets");
    expect(mountOf("meshlet-secret-redis")).toBe(path.join(secrets, "redis"));
    fs.mkdirSync(path.join(secrets, "redis"), { recursive: true });
    fs.writeFileSync(path.join(secrets, "redis", "redis-password"), "from-the-secret");
    // The container's args with mount paths under this pod folder, and its plain env.
    const args: string[] = sidecar.args.map((a: string) => (a.startsWith("/") ? path.join(root, a) : a));
    const env: Record<string, string> = {};
    for (const e of sidecar.env as Obj[]) if (e.value !== undefined) env[e.name] = e.value.startsWith("/") ? path.join(root, e.value) : e.value;
    const at = (flag: string, value: string) => void (args[args.indexOf(flag) + 1] = value);
    args.splice(args.indexOf("--app-port"), 2);
    // Ports the host has free instead of the pod's fixed ones; no app runs here. A port that another
    // process takes between freePort() and the bind fails the start: then it is tried on new ports.
    let p: Proc;
    let httpPort: number;
    for (let attempt = 1; ; attempt++) {
      httpPort = await freePort();
      at("--dapr-http-port", String(httpPort));
      at("--dapr-grpc-port", String(await freePort()));
      at("--dapr-internal-grpc-port", String(await freePort()));
      at("--metrics-port", String(await freePort()));
      p = spawnProc(MESHLET, args, { ...env, NAMESPACE: "default", POD_NAME: "nodeapp-0", POD_IP: "127.0.0.1", MESHLET_HOME: path.join(root, "var/lib/meshlet") });
      const started = p;
      const up = await waitFor("the pod's sidecar", async () => {
        if (started.child.exitCode !== null) return "exited";
        // Its own log says it is up too: the healthz answer must be this process's.
        return started.output().includes("You're up and running") && (await fetch(`http://127.0.0.1:${httpPort}/v1.0/healthz`).catch(() => null))?.status === 204 ? "up" : null;
      });
      if (up === "up") break;
      if (attempt >= 3 || !/Port \d+ is not available/.test(p.output())) throw new Error(`the pod's sidecar exited:\n${p.output()}`);
    }
    await expectOutput(p, "mtls as spiffe://public/ns/default/nodeapp (cert-manager files in");
    const md = (await (await fetch(`http://127.0.0.1:${httpPort}/v1.0/metadata`)).json()) as { components: Obj[] };
    expect(md.components).toContainEqual({ name: "statestore", type: "state.redis", version: "v1", capabilities: ["ETAG", "TRANSACTIONAL", "TTL"] });
    const saved = await fetch(`http://127.0.0.1:${httpPort}/v1.0/state/statestore`, { method: "POST", body: '[{"key":"order","value":{"orderId":1}}]' });
    expect(saved.status).toBe(204);
    expect(redis.cli("HGET", "nodeapp||order", "data").trim()).toBe('{"orderId":1}');
    const secret = (await (await fetch(`http://127.0.0.1:${httpPort}/v1.0/secrets/kubernetes/redis`)).json()) as Record<string, string>;
    expect(secret).toEqual({ "redis-password": "from-the-secret" });
  });
});
