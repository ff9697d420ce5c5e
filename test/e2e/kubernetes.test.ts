// The Kubernetes resolver inside real sidecars: a DNS server on loopback serves a headless
// Service with three pods (three callee sidecars) in a cluster domain other than cluster.local.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { testCa } from "../certs.ts";
import { freePort, killAll, startSidecar, tempHome, type Sidecar, expectOutput } from "../helpers.ts";
import { TestDnsServer } from "../dns-server.ts";

let dns: TestDnsServer;
let caller: Sidecar;
const pods: Array<{ port: number; side: Sidecar }> = [];

beforeAll(async () => {
  dns = await new TestDnsServer().start();
  const home = tempHome();
  // Pods have homes of their own; they share the trust anchors and issuer (Dapr's variables).
  const trust = (await testCa()).env;
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const side = await startSidecar({ appId: "inventory", home: tempHome(), echo: true, args: ["-I", String(port)], env: { NAMESPACE: "shop", ...trust } });
    pods.push({ port, side });
  }
  dns.headless(
    "inventory-dapr.shop.svc.corp.internal",
    pods.map((p) => ({ ip: "127.0.0.1", port: p.port })),
    5,
  );
  const cfg = path.join(home, "k8s.yaml");
  fs.writeFileSync(
    cfg,
    `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: k8s}\nspec:\n  nameResolution:\n    component: kubernetes\n    configuration:\n      clusterDomain: corp.internal\n      servers: ["${dns.address}"]\n`,
  );
  caller = await startSidecar({ appId: "shop-ui", home, args: ["-c", cfg], env: { NAMESPACE: "shop", ...trust } });
});
afterAll(async () => {
  await killAll();
  dns.close();
});

describe("kubernetes resolver end to end", () => {
  it("logs the choice and its cluster domain", async () => {
    await expectOutput(caller, "name resolution: kubernetes: selected by");
    await expectOutput(caller, "cluster domain corp.internal");
  });

  it("balances over every pod of the headless Service, per endpoint", async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 45; i++) {
      const r = await fetch(`${caller.url}/v1.0/invoke/inventory/method/where`);
      expect(r.status).toBe(200);
      seen.add(((await r.json()) as { port: number }).port);
    }
    expect(seen).toEqual(new Set(pods.map((p) => p.side.appPort)));
    expect(dns.queries).toContain("SRV _dapr-internal._tcp.inventory-dapr.shop.svc.corp.internal");
  });

  it("resolves name.namespace against that namespace's Service", async () => {
    const r = await fetch(`${caller.url}/v1.0/invoke/inventory.shop/method/ns`);
    expect(r.status).toBe(200);
    const other = await fetch(`${caller.url}/v1.0/invoke/inventory.prod/method/ns`);
    expect(other.headers.get("meshlet-reason")).toBe("app_id_not_found");
    expect(((await other.json()) as { message: string }).message).toContain("inventory-dapr.prod.svc.corp.internal");
  });
});
