// The guard's limit: the flag wins (0 turns it off, too small is refused in one line), else 90 %
// of the cgroup's limit as this process's /proc/self/cgroup and /sys/fs/cgroup show it, for
// cgroup v2 and v1, with "no limit" in each's spelling read as none.

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cgroupMemoryLimit, memoryLimit } from "./memory-limit.ts";

const MiB = 1024 ** 2;

/** A root holding the given files (relative paths), for cgroupMemoryLimit. */
function root(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cgroup-"));
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), text);
  }
  return dir;
}

describe("cgroupMemoryLimit", () => {
  it("reads cgroup v2's memory.max at the process's group, or at the mount's root inside a cgroup namespace", () => {
    expect(cgroupMemoryLimit(root({ "proc/self/cgroup": "0::/kubepods/pod1/c1\n", "sys/fs/cgroup/kubepods/pod1/c1/memory.max": "536870912\n" }))).toBe(512 * MiB);
    expect(cgroupMemoryLimit(root({ "proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.max": "268435456\n" }))).toBe(256 * MiB);
    expect(cgroupMemoryLimit(root({ "proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.max": "max\n" }))).toBeNull();
  });

  it("reads cgroup v1's memory.limit_in_bytes, and its 'unlimited' number or a limit at the host's size as none", () => {
    const v1 = (limit: string) => root({ "proc/self/cgroup": "5:cpu,cpuacct:/x\n4:memory:/process_api/abc\n", "sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes": limit });
    expect(cgroupMemoryLimit(v1("1073741824\n"))).toBe(1024 * MiB);
    expect(cgroupMemoryLimit(v1("9223372036854771712\n"))).toBeNull();
    expect(cgroupMemoryLimit(v1("1073741824\n"), 1024 * MiB)).toBeNull();
  });

  it("answers none where nothing can be read", () => {
    expect(cgroupMemoryLimit(root({}))).toBeNull();
    expect(cgroupMemoryLimit(root({ "proc/self/cgroup": "0::/gone\n" }))).toBeNull();
  });
});

describe("memoryLimit", () => {
  it("takes the flag over the container, 0 as off, and refuses a size too small or not a size", () => {
    expect(memoryLimit("256Mi", 1024 * MiB)).toEqual({ bytes: 256 * MiB, source: "flag" });
    expect(memoryLimit("0", 1024 * MiB)).toBeNull();
    expect(() => memoryLimit("64Mi", null)).toThrow("64Mi is below 96Mi: a sidecar holds 60-80 MB at ordinary load, so it would refuse calls all the time (0 turns the guard off)");
    expect(() => memoryLimit("lots", null)).toThrow(/invalid size "lots"/);
  });

  it("defaults to 90 % of the container's limit, and to off without one or with one too small to leave room", () => {
    expect(memoryLimit(undefined, 1000 * MiB)).toEqual({ bytes: 900 * MiB, source: "cgroup", cgroupBytes: 1000 * MiB });
    expect(memoryLimit(undefined, null)).toBeNull();
    const warned: string[] = [];
    expect(memoryLimit(undefined, 100 * MiB, (m) => warned.push(m))).toBeNull();
    expect(warned).toEqual(["the container's memory limit (100Mi) is under 107Mi, too small to shed load before it: the memory guard is off"]);
  });
});
