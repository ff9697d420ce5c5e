// The memory guard's limit: `--max-memory` when given (0 turns the guard off), else 90 % of the
// container's memory limit (cgroup v2 memory.max, or v1 memory.limit_in_bytes) where one is set,
// as Dapr's docs advise for GOMEMLIMIT. Reading the cgroup files is the only I/O, at start.

import fs from "node:fs";
import path from "node:path";
import { parseSize } from "./units.ts";

/** Below this a sidecar would refuse calls at ordinary load: one holds 60-80 MB RSS at 1,000 req/s (README). */
export const MIN_MAX_MEMORY = 96 * 1024 ** 2;
/** The share of the container's limit the guard sheds at, leaving room for what is in flight. */
export const CGROUP_SHARE = 0.9;

export type MemoryLimit =
  | { readonly bytes: number; readonly source: "flag" }
  | { readonly bytes: number; readonly source: "cgroup"; readonly cgroupBytes: number };

/**
 * The memory limit of this process's cgroup in bytes, or null where none is set (or none can be
 * read). `root` is "/" outside tests.
 */
export function cgroupMemoryLimit(root = "/", totalBytes = Infinity): number | null {
  const read = (p: string): string | null => {
    try {
      return fs.readFileSync(path.join(root, p), "utf8").trim();
    } catch {
      return null;
    }
  };
  const lines = (read("proc/self/cgroup") ?? "").split("\n");
  const candidates: string[] = [];
  for (const line of lines) {
    const [, controllers, group] = line.split(":");
    if (group === undefined) continue;
    // v2: "0::/path"; v1: "4:memory:/path". The group may not be visible (no cgroup namespace), so the mount's root is read too.
    if (controllers === "") candidates.push(path.join("sys/fs/cgroup", group, "memory.max"), "sys/fs/cgroup/memory.max");
    else if (controllers!.split(",").includes("memory"))
      candidates.push(path.join("sys/fs/cgroup/memory", group, "memory.limit_in_bytes"), "sys/fs/cgroup/memory/memory.limit_in_bytes");
  }
  for (const c of candidates) {
    const v = read(c);
    if (v === null) continue;
    if (v === "max") return null;
    const n = Number(v);
    // cgroup v1 says "unlimited" as a number near 2^63; anything at or over the host's memory limits nothing.
    if (!Number.isFinite(n) || n <= 0 || n >= totalBytes || n >= 2 ** 62) return null;
    return n;
  }
  return null;
}

const mi = (bytes: number) => Math.round(bytes / 1024 ** 2);

/**
 * The guard's limit from the flag and the container: null when off. Throws a one-line message for
 * a flag that is not a size or is below MIN_MAX_MEMORY; tells `warn` when a container's limit is
 * too small for the guard.
 */
export function memoryLimit(flag: string | undefined, cgroupBytes: number | null, warn: (message: string) => void = () => {}): MemoryLimit | null {
  if (flag !== undefined) {
    const bytes = parseSize(flag);
    if (bytes === 0) return null;
    if (bytes < MIN_MAX_MEMORY) throw new Error(`${flag} is below ${mi(MIN_MAX_MEMORY)}Mi: a sidecar holds 60-80 MB at ordinary load, so it would refuse calls all the time (0 turns the guard off)`);
    return { bytes, source: "flag" };
  }
  if (cgroupBytes === null) return null;
  const bytes = Math.floor(cgroupBytes * CGROUP_SHARE);
  if (bytes >= MIN_MAX_MEMORY) return { bytes, source: "cgroup", cgroupBytes };
  warn(`the container's memory limit (${mi(cgroupBytes)}Mi) is under ${Math.ceil(mi(MIN_MAX_MEMORY) / CGROUP_SHARE)}Mi, too small to shed load before it: the memory guard is off`);
  return null;
}
