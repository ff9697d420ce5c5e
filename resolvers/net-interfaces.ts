// Which network interfaces multicast discovery uses, chosen on purpose: up, not loopback, not
// virtual or VPN-looking (docker, veth, tun, wg, utun, tailscale...) unless pinned by name or
// CIDR. Every skipped interface says why, for logs and `meshlet doctor`.

import fs from "node:fs";
import net from "node:net";
import os from "node:os";

export interface Iface {
  readonly name: string;
  readonly address: string;
  readonly family: 4 | 6;
  /** `address/prefix`, for matching a peer's source address to the interface it came in on. */
  readonly cidr: string;
}

export interface Choice {
  readonly chosen: Iface[];
  readonly skipped: Array<{ name: string; address: string; why: string }>;
}

const VIRTUAL = /^(docker|br-|veth|virbr|vmnet|vboxnet|utun|tun|tap|wg|zt|tailscale|ppp|ipsec|vethernet|cni|flannel|cali|kube|lxc|lxd|podman|nordlynx|gpd)/i;

function operstate(name: string): string {
  try {
    return fs.readFileSync(`/sys/class/net/${name}/operstate`, "utf8").trim();
  } catch {
    return "unknown";
  }
}

function matchesPin(pin: string, name: string, address: string, family: 4 | 6): boolean {
  if (!pin.includes("/")) return pin === name;
  const [base, bits] = pin.split("/");
  const list = new net.BlockList();
  try {
    list.addSubnet(base!, Number(bits), base!.includes(":") ? "ipv6" : "ipv4");
  } catch {
    return false;
  }
  return list.check(address, family === 6 ? "ipv6" : "ipv4");
}

export function chooseInterfaces(
  pins: readonly string[] | undefined,
  opts: { ipv6?: boolean; list?: NodeJS.Dict<os.NetworkInterfaceInfo[]>; state?: (name: string) => string } = {},
): Choice {
  const all = opts.list ?? os.networkInterfaces();
  const state = opts.state ?? operstate;
  const chosen: Iface[] = [];
  const skipped: Choice["skipped"] = [];
  for (const [name, addrs] of Object.entries(all)) {
    for (const a of addrs ?? []) {
      const family = a.family === "IPv6" ? 6 : 4;
      const entry = { name, address: a.address, family, cidr: a.cidr ?? `${a.address}/${family === 4 ? 32 : 128}` } as Iface;
      if (family === 6 && (!opts.ipv6 || a.address.startsWith("fe80"))) {
        skipped.push({ name, address: a.address, why: opts.ipv6 ? "IPv6 link-local (needs a zone to dial)" : "IPv6 not enabled" });
        continue;
      }
      if (pins?.length) {
        if (pins.some((p) => matchesPin(p, name, a.address, family))) chosen.push(entry);
        else skipped.push({ name, address: a.address, why: `not in the pinned interfaces (${pins.join(", ")})` });
        continue;
      }
      const st = state(name);
      if (st === "down" || st === "lowerlayerdown") skipped.push({ name, address: a.address, why: "interface is down" });
      else if (a.internal) skipped.push({ name, address: a.address, why: "loopback (pin it to use it)" });
      else if (VIRTUAL.test(name)) skipped.push({ name, address: a.address, why: "looks virtual or VPN (pin it to use it)" });
      else chosen.push(entry);
    }
  }
  return { chosen, skipped };
}

/** The chosen interface a packet from `source` arrived on (same subnet), if any. */
export function arrivalInterface(source: string, ifaces: readonly Iface[]): Iface | undefined {
  const family = source.includes(":") ? 6 : 4;
  // IPv6 mDNS comes from link-local addresses carrying their interface: `fe80::1%eth0`.
  const scope = source.indexOf("%");
  if (scope >= 0) {
    const name = source.slice(scope + 1);
    return ifaces.find((i) => i.family === 6 && i.name === name);
  }
  for (const i of ifaces) {
    if (i.family !== family) continue;
    if (i.address === source) return i;
    const [base, bits] = i.cidr.split("/");
    const list = new net.BlockList();
    list.addSubnet(base!, Number(bits), family === 6 ? "ipv6" : "ipv4");
    if (list.check(source, family === 6 ? "ipv6" : "ipv4")) return i;
  }
  return undefined;
}
