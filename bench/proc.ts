// Reads a process's CPU time and memory from /proc, for the benchmark's per-sidecar figures.
// Linux only; returns zeros elsewhere rather than failing the run.

import fs from "node:fs";

const CLK_TCK = 100;

/** utime + stime of `pid` in seconds. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * VmRSS and VmHWM of `pid` in MiB, and RssAnon: the private part. The rest of RSS is mostly the
 * runtime binary's code pages, which every process running the same binary shares.
 */
export function memory(pid: number): { rssMb: number; hwmMb: number; anonMb: number } {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024, anonMb: kb("RssAnon") / 1024 };
  } catch {
    return { rssMb: 0, hwmMb: 0, anonMb: 0 };
  }
}

/**
 * Starts a working-set measurement: clears the referenced bits of `pid`'s pages (clear_refs), so
 * that `touchedMb` later counts only the pages used since. False where the kernel or the
 * permissions do not allow it.
 */
export function clearTouched(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "1");
    return true;
  } catch {
    return false;
  }
}

let tracked: boolean | null = null;

/**
 * Whether this kernel marks a page referenced again when it is used after `clearTouched`: tried
 * once on this process with 8 MiB written twice. Where it does not, every reading would be near
 * zero. Pages used in the first moments after clear_refs can go uncounted (a 6.18 guest kernel on
 * a Firecracker VM), so the probe waits 300 ms before it writes; a round lasts seconds. Under Node
 * the probe (and the reading) stays near zero on that kernel: the benchmark runs on Bun.
 */
export async function touchTracked(): Promise<boolean> {
  if (tracked !== null) return tracked;
  const buf = Buffer.alloc(8 << 20, 1);
  if (!clearTouched(process.pid)) return (tracked = false);
  await new Promise((r) => setTimeout(r, 300));
  const before = touchedMb(process.pid);
  buf.fill(2);
  tracked = touchedMb(process.pid) - before >= 6;
  return tracked;
}

/**
 * MiB of `pid`'s resident pages referenced since `clearTouched`: what it used over that time, as
 * against RSS, which also holds pages touched once at start-up (most of the runtime binary's code)
 * and never again.
 */
export function touchedMb(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    return Number(/^Referenced:\s+(\d+) kB/m.exec(s)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
