import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runResolverContract } from "./contract.ts";
import { clusterDomainFrom, fillTemplate, KubernetesResolver } from "./kubernetes.ts";
import { TestDnsServer } from "../test/dns-server.ts";

const DOMAIN = "corp.internal";
let dns: TestDnsServer;
beforeAll(async () => {
  dns = await new TestDnsServer().start();
});
afterAll(() => dns.close());

runResolverContract("kubernetes", {
  async make(regs, opts) {
    dns.records = [];
    const bySvc = new Map<string, Array<{ ip: string; port: number }>>();
    for (const r of regs) {
      const svc = `${r.appId}-dapr.${r.namespace}.svc.${DOMAIN}`;
      if (!bySvc.has(svc)) bySvc.set(svc, []);
      bySvc.get(svc)!.push({ ip: r.host, port: r.port });
    }
    for (const [svc, pods] of bySvc) dns.headless(svc, pods);
    return new KubernetesResolver({ clusterDomain: DOMAIN, servers: [dns.address], evictMs: opts.evictMs, now: opts.now });
  },
});

describe("kubernetes resolver specifics", () => {
  it("uses every pod of a headless Service (SRV then A) in a non-default cluster domain", async () => {
    dns.records = [];
    dns.headless(`orders-dapr.shop.svc.${DOMAIN}`, [
      { ip: "10.1.0.1", port: 50002 },
      { ip: "10.1.0.2", port: 50002 },
      { ip: "10.1.0.3", port: 50002 },
    ]);
    const r = new KubernetesResolver({ clusterDomain: DOMAIN, servers: [dns.address] });
    const eps = await r.resolve({ appId: "orders", namespace: "shop" });
    expect(eps.map((e) => e.key).sort()).toEqual(["10.1.0.1:50002", "10.1.0.2:50002", "10.1.0.3:50002"]);
    expect(dns.queries).toContain(`SRV _dapr-internal._tcp.orders-dapr.shop.svc.${DOMAIN}`);
  });

  it("respects record TTLs: a cached answer is reused until it expires", async () => {
    dns.records = [];
    const svc = `ttl-dapr.default.svc.${DOMAIN}`;
    dns.headless(svc, [{ ip: "10.2.0.1", port: 50002 }], 1);
    let t = 0;
    const r = new KubernetesResolver({ clusterDomain: DOMAIN, servers: [dns.address], now: () => t });
    expect((await r.resolve({ appId: "ttl", namespace: "default" })).map((e) => e.key)).toEqual(["10.2.0.1:50002"]);
    dns.headless(svc, [{ ip: "10.2.0.9", port: 50002 }], 1);
    t = 999;
    expect((await r.resolve({ appId: "ttl", namespace: "default" })).map((e) => e.key)).toEqual(["10.2.0.1:50002"]);
    t = 1001;
    expect((await r.resolve({ appId: "ttl", namespace: "default" })).map((e) => e.key)).toEqual(["10.2.0.9:50002"]);
  });

  it("falls back to A records with the default port when there is no SRV", async () => {
    dns.records = [{ name: `plain-dapr.default.svc.${DOMAIN}`, type: "A", ttl: 5, data: "10.3.0.1" }];
    const r = new KubernetesResolver({ clusterDomain: DOMAIN, servers: [dns.address] });
    expect((await r.resolve({ appId: "plain", namespace: "default" })).map((e) => e.key)).toEqual(["10.3.0.1:50002"]);
  });

  it("tells a DNS timeout apart from an unknown app-id", async () => {
    const silent = (await import("node:dgram")).createSocket("udp4");
    await new Promise<void>((res) => silent.bind(0, "127.0.0.1", () => res()));
    const r = new KubernetesResolver({ clusterDomain: DOMAIN, servers: [`127.0.0.1:${silent.address().port}`] });
    await expect(r.resolve({ appId: "x", namespace: "default" })).rejects.toMatchObject({ reason: "resolution_timeout" });
    silent.close();
    const r2 = new KubernetesResolver({ clusterDomain: DOMAIN, servers: [dns.address] });
    await expect(r2.resolve({ appId: "nobody", namespace: "default" })).rejects.toMatchObject({ reason: "app_id_not_found" });
  });

  it("reads the cluster domain from resolv.conf and fills Dapr's template", () => {
    expect(clusterDomainFrom("nameserver 10.0.0.10\nsearch shop.svc.k8s.example svc.k8s.example k8s.example\noptions ndots:5\n")).toBe("k8s.example");
    expect(clusterDomainFrom("search lan\n")).toBeNull();
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rc-")), "resolv.conf");
    fs.writeFileSync(f, "search default.svc.edge.local svc.edge.local\n");
    expect(new KubernetesResolver({ resolvConf: f }).clusterDomain).toBe("edge.local");
    expect(new KubernetesResolver({ resolvConf: "/nonexistent" }).clusterDomain).toBe("cluster.local");
    expect(fillTemplate("{{.ID}}-{{.Data.region}}.internal:{{.Port}}", { id: "a", namespace: "n", port: 50002, data: { region: "eu" } })).toBe("a-eu.internal:50002");
  });
});
