// The files behind the local registry: reading entries back with the checks that keep another
// local user from hijacking discovery (an entry counts only when this user owns it and it names
// a loopback address); writing them privately is core/private-files.ts. No caching here.

import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Registration } from "./types.ts";

export interface LocalEntry extends Registration {
  readonly pid: number;
  readonly file: string;
  readonly startedAt: number;
  /** Set while the sidecar runs but is not ready (why): known, never handed out. */
  readonly notReady?: string;
}

const myUid = typeof process.getuid === "function" ? process.getuid() : -1;

/** Whether a process exists (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Loopback only: the local registry never sends a call off this host. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Why an entry file is not used, or null when it is. */
function refusal(st: fs.Stats, e: Omit<LocalEntry, "file">): string | null {
  if (myUid >= 0 && st.uid !== myUid) return "owned by another user";
  if (typeof e.host !== "string" || !isLoopbackHost(e.host)) return "names a non-loopback host";
  if (!Number.isInteger(e.port) || e.port <= 0 || e.port > 65535) return "names no valid port";
  return null;
}

/**
 * Reads the entries among `names` (files in `dir`): live ones are returned, dead or stale ones
 * are removed on the way, and files that fail the ownership and loopback checks are skipped
 * (not removed: they may belong to someone else).
 */
export async function readEntries(dir: string, names: readonly string[], staleMs: number): Promise<LocalEntry[]> {
  const out: LocalEntry[] = [];
  const now = Date.now();
  await Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      try {
        const [st, text] = await Promise.all([fsp.stat(file), fsp.readFile(file, "utf8")]);
        const e = JSON.parse(text) as Omit<LocalEntry, "file">;
        if (refusal(st, e) !== null) return;
        if (!pidAlive(e.pid) || now - st.mtimeMs > staleMs) {
          await fsp.unlink(file).catch(() => {});
          return;
        }
        out.push({ ...e, file });
      } catch {
        // A file being written or removed right now: skip it this round.
      }
    }),
  );
  return out.sort((a, b) => a.startedAt - b.startedAt);
}

/** Every live entry of the registry whose file name starts with `prefix`. */
export async function readRegistry(dir: string, staleMs = 15_000, prefix = ""): Promise<LocalEntry[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  return readEntries(dir, entryNames(names, prefix), staleMs);
}

const isEntry = (name: string, prefix: string) => name.endsWith(".json") && name.startsWith(prefix);

/** The registry entry files among a directory listing, for one prefix. */
export function entryNames(names: readonly string[], prefix: string): string[] {
  return names.filter((n) => isEntry(n, prefix));
}

/** Whether a directory listing holds any entry for the prefix (no array made). */
export function hasEntry(names: readonly string[], prefix: string): boolean {
  return names.some((n) => isEntry(n, prefix));
}
