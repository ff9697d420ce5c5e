// The mDNS resolver runs the shared contract inside a fresh network namespace (multicast on its
// own loopback only): this file, run normally, creates the namespace and runs itself inside it.

import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { runResolverContract } from "./contract.ts";
import { MdnsResolver } from "./mdns.ts";
import { chooseInterfaces, arrivalInterface } from "./net-interfaces.ts";
import { canUseNetns, Netns } from "../test/netns.ts";

const inside = process.env.MESHLET_MDNS_NETNS === "1";

if (inside) {
  const open: MdnsResolver[] = [];
  runResolverContract("mdns", {
    async make(regs, opts) {
      // One resolver per registration, as separate sidecars would have.
      for (const r of regs) {
        const m = new MdnsResolver({ interfaces: ["lo"] });
        open.push(m);
        await m.register(r);
      }
      const reader = new MdnsResolver({ interfaces: ["lo"], evictMs: opts.evictMs, now: opts.now, queryTimeoutMs: 300 });
      open.push(reader);
      return reader;
    },
    async cleanup() {
      // Close sends goodbyes, so no registration outlives its case.
      await Promise.all(open.splice(0).map((m) => m.close()));
    },
  });
}

const can = canUseNetns();
describe.skipIf(inside || !can.ok)(`mdns resolver contract in a network namespace${can.ok ? "" : ` (skipped: ${can.why})`}`, () => {
  it("passes the shared resolver contract over multicast on the namespace's loopback", () => {
    const net = new Netns(`mc${process.pid % 10000}`);
    try {
      const ns = net.host("x");
      execFileSync("ip", ["-n", ns, "link", "set", "lo", "multicast", "on"]);
      execFileSync("ip", ["-n", ns, "route", "add", "224.0.0.0/4", "dev", "lo"]);
      const root = path.resolve(import.meta.dirname, "..");
      const out = execFileSync("ip", ["netns", "exec", ns, path.join(root, "node_modules", ".bin", "vitest"), "run", "resolvers/mdns.test.ts"], {
        cwd: root,
        env: { ...process.env, MESHLET_MDNS_NETNS: "1", NO_COLOR: "1" },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(out.replace(/\u001b\[[0-9;]*m/g, "")).toMatch(/Tests\s+5 passed/);
    } finally {
      net.destroy();
    }
  }, 70_000);
});

describe.skipIf(inside)("interface choice", () => {
  const list = {
    lo: [{ address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4", mac: "", internal: true, cidr: "127.0.0.1/8" }],
    eth0: [
      { address: "192.168.1.20", netmask: "255.255.255.0", family: "IPv4", mac: "", internal: false, cidr: "192.168.1.20/24" },
      { address: "fe80::1", netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "", internal: false, cidr: "fe80::1/64", scopeid: 2 },
    ],
    docker0: [{ address: "172.17.0.1", netmask: "255.255.0.0", family: "IPv4", mac: "", internal: false, cidr: "172.17.0.1/16" }],
    utun3: [{ address: "10.8.0.2", netmask: "255.255.255.0", family: "IPv4", mac: "", internal: false, cidr: "10.8.0.2/24" }],
    wlan0: [{ address: "192.168.7.5", netmask: "255.255.255.0", family: "IPv4", mac: "", internal: false, cidr: "192.168.7.5/24" }],
  } as unknown as NodeJS.Dict<import("node:os").NetworkInterfaceInfo[]>;
  const state = (n: string) => (n === "wlan0" ? "down" : "up");

  it("skips loopback, down, virtual and VPN-looking interfaces, saying why", () => {
    const c = chooseInterfaces(undefined, { list, state });
    expect(c.chosen.map((i) => i.name)).toEqual(["eth0"]);
    expect(Object.fromEntries(c.skipped.map((s) => [`${s.name} ${s.address}`, s.why]))).toMatchObject({
      "lo 127.0.0.1": "loopback (pin it to use it)",
      "docker0 172.17.0.1": "looks virtual or VPN (pin it to use it)",
      "utun3 10.8.0.2": "looks virtual or VPN (pin it to use it)",
      "wlan0 192.168.7.5": "interface is down",
      "eth0 fe80::1": "IPv6 not enabled",
    });
  });

  it("pins interfaces by name or CIDR", () => {
    expect(chooseInterfaces(["utun3"], { list, state }).chosen.map((i) => i.address)).toEqual(["10.8.0.2"]);
    expect(chooseInterfaces(["172.16.0.0/12"], { list, state }).chosen.map((i) => i.name)).toEqual(["docker0"]);
  });

  it("finds the IPv6 interface from a link-local source's scope", () => {
    const v6 = {
      eth0: [{ address: "fd00::5", netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "", internal: false, cidr: "fd00::5/64", scopeid: 2 }],
    } as unknown as NodeJS.Dict<import("node:os").NetworkInterfaceInfo[]>;
    const c = chooseInterfaces(undefined, { list: v6, state: () => "up", ipv6: true });
    expect(arrivalInterface("fe80::99%eth0", c.chosen)?.address).toBe("fd00::5");
  });

  it("finds the interface a packet arrived on by its source subnet", () => {
    const c = chooseInterfaces(["eth0", "docker0"], { list, state });
    expect(arrivalInterface("192.168.1.99", c.chosen)?.name).toBe("eth0");
    expect(arrivalInterface("172.17.3.4", c.chosen)?.name).toBe("docker0");
    expect(arrivalInterface("8.8.8.8", c.chosen)).toBeUndefined();
  });
});
