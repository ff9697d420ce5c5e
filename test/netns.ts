// Test hosts in network namespaces the test creates itself (root + iproute2): each namespace is
// a host, joined by veth pairs, so multicast never touches the machine's real interfaces.

import { execFileSync } from "node:child_process";

export function canUseNetns(): { ok: boolean; why: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: "needs root to create network namespaces" };
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
    return { ok: true, why: "" };
  } catch {
    return { ok: false, why: "iproute2 (ip netns) is not available" };
  }
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

export class Netns {
  readonly created: string[] = [];
  constructor(readonly prefix = `ml${process.pid % 10000}`) {}

  host(name: string): string {
    const ns = `${this.prefix}${name}`;
    ip("netns", "add", ns);
    this.created.push(ns);
    ip("-n", ns, "link", "set", "lo", "up");
    return ns;
  }

  /** A veth pair between two namespaces, with an address on each end (CIDR notation). */
  link(a: string, aAddr: string, b: string, bAddr: string, tag: string): void {
    const ea = `${this.prefix}${tag}a`;
    const eb = `${this.prefix}${tag}b`;
    ip("link", "add", ea, "netns", a, "type", "veth", "peer", "name", eb, "netns", b);
    // IPv6 addresses skip duplicate detection so they are usable at once.
    ip("-n", a, "addr", "add", aAddr, "dev", ea, ...(aAddr.includes(":") ? ["nodad"] : []));
    ip("-n", b, "addr", "add", bAddr, "dev", eb, ...(bAddr.includes(":") ? ["nodad"] : []));
    ip("-n", a, "link", "set", ea, "up", "multicast", "on");
    ip("-n", b, "link", "set", eb, "up", "multicast", "on");
    // Wait for carrier on both ends: until then the addresses are not listed as usable.
    for (const [ns, dev] of [
      [a, ea],
      [b, eb],
    ] as const) {
      const end = Date.now() + 5000;
      while (!execFileSync("ip", ["-n", ns, "link", "show", "dev", dev], { encoding: "utf8" }).includes("LOWER_UP")) {
        if (Date.now() > end) throw new Error(`${dev} in ${ns} has no carrier`);
        execFileSync("sleep", ["0.05"]);
      }
    }
  }

  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, cmd: string[], timeoutMs = 10_000): string {
    return execFileSync("ip", ["netns", "exec", ns, ...cmd], { encoding: "utf8", timeout: timeoutMs });
  }

  destroy(): void {
    for (const ns of this.created.splice(0)) {
      try {
        ip("netns", "del", ns);
      } catch {
        // already gone
      }
    }
  }
}
