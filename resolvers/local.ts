// The single-host registry: each sidecar writes one small JSON file into a shared directory and
// keeps it fresh; callers read the directory. No multicast, no server, works from any shell.
// It does not cross hosts: that is mdns/kubernetes/static territory.

import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BoundedMap } from "../core/bounded-map.ts";
import { endpoint, type Endpoint } from "../core/call.ts";
import { Evictions } from "./evictions.ts";
import { entryNames, hasEntry, type LocalEntry, readEntries } from "./local-files.ts";
import { ensurePrivateDir, writePrivateFileAsync } from "../core/private-files.ts";

export { isLoopbackHost, type LocalEntry, pidAlive, readRegistry } from "./local-files.ts";
import { type AppRef, notFound, notReady, type Registration, type Resolver } from "./types.ts";
import type { SidecarError } from "../core/errors.ts";

export interface LocalRegistryOptions {
  /** Registry directory; default `$MESHLET_REGISTRY_DIR` or `$MESHLET_HOME/registry`. */
  dir?: string;
  /** How often a live sidecar touches its file (ms). */
  heartbeatMs?: number;
  /** A file not touched for this long is stale even if its pid exists (pid reuse). */
  staleMs?: number;
  /** How long a resolved list is reused before the directory is read again (ms). */
  cacheMs?: number;
  /** How long an evicted endpoint is skipped unless its file is rewritten (ms). */
  evictMs?: number;
  /** The clock (ms) for caches and evictions; injected by tests (file mtimes stay wall time). */
  now?: () => number;
}

/** meshlet's per-user state directory: `$MESHLET_HOME`, else `~/.meshlet`. */
export function meshletHome(): string {
  return process.env.MESHLET_HOME || path.join(os.homedir(), ".meshlet");
}

export function defaultRegistryDir(): string {
  return process.env.MESHLET_REGISTRY_DIR || path.join(meshletHome(), "registry");
}

const enc = (s: string) => encodeURIComponent(s).replace(/~/g, "%7E");
const prefixOf = (ref: AppRef) => `${enc(ref.namespace)}~${enc(ref.appId)}~`;

/** Files this process registered: removed on exit even if nobody called deregister(). */
const ownFiles = new Set<string>();
let exitHook = false;
function removeOnExit(file: string): void {
  ownFiles.add(file);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const f of ownFiles) fs.rmSync(f, { force: true });
  });
}

/** One lookup's answer: the ready instances, and why registered ones are not ready (null: none such). */
interface Lookup {
  readonly eps: Endpoint[];
  readonly waiting: string | null;
  readonly at: number;
  readonly gen: number;
}

export class LocalRegistry implements Resolver {
  readonly name = "local";
  readonly dir: string;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly cacheMs: number;
  private readonly now: () => number;
  /** Lookups, by file-name prefix: bounded, since callers may ask for any app-id. */
  private readonly cache = new BoundedMap<string, Lookup>(4096, 60_000, () => this.now());
  private readonly inflight = new Map<string, Promise<Lookup>>();
  private readonly evicted: Evictions;
  private generation = 0;
  /** The directory listing, read once per generation and cacheMs and shared by every lookup. */
  private listing: { names: string[]; at: number; gen: number } | null = null;
  private listingInflight: Promise<string[]> | null = null;
  private dirWatcher: fs.FSWatcher | null = null;
  private own: { file: string; timer: ReturnType<typeof setInterval> } | null = null;

  constructor(opts: LocalRegistryOptions = {}) {
    this.dir = opts.dir ?? defaultRegistryDir();
    this.heartbeatMs = opts.heartbeatMs ?? 2_000;
    this.staleMs = opts.staleMs ?? 15_000;
    this.cacheMs = opts.cacheMs ?? 1_000;
    this.evicted = new Evictions(opts.evictMs ?? 5_000, opts.now);
    this.now = opts.now ?? Date.now;
  }

  private ensureWatch(): void {
    if (this.dirWatcher) return;
    try {
      ensurePrivateDir(this.dir);
      // Any change makes cached lookups stale: a restarted app on a new port is seen at once.
      this.dirWatcher = fs.watch(this.dir, () => {
        this.generation++;
      });
      this.dirWatcher.unref?.();
      // The directory itself was removed: watch again once it is back (the TTL covers the gap).
      this.dirWatcher.on("error", () => this.unwatch());
    } catch {
      // Without a watcher the cache TTL still bounds staleness.
    }
  }

  private unwatch(): void {
    this.dirWatcher?.close();
    this.dirWatcher = null;
    this.generation++;
  }

  /** File names in the registry directory (one readdir per generation and cacheMs). */
  private names(): Promise<string[]> | string[] {
    const l = this.listing;
    if (l && l.gen === this.generation && this.now() - l.at < this.cacheMs) return l.names;
    if (this.listingInflight) return this.listingInflight;
    const gen = this.generation;
    const p = fsp.readdir(this.dir).then(
      (names) => names,
      () => {
        // Gone or unreadable: no entries; a removed directory is watched again when recreated.
        this.unwatch();
        return [] as string[];
      },
    );
    this.listingInflight = p;
    return p.then((names) => {
      this.listingInflight = null;
      this.listing = { names, at: this.now(), gen };
      return names;
    });
  }

  /** File-name prefix per `namespace/app-id`, computed once (encodeURIComponent is not free). */
  private readonly prefixes = new Map<string, string>();
  private prefix(ref: AppRef): string {
    const k = `${ref.namespace}\u0000${ref.appId}`;
    let p = this.prefixes.get(k);
    if (p === undefined) {
      if (this.prefixes.size > 10_000) this.prefixes.clear();
      this.prefixes.set(k, (p = prefixOf(ref)));
    }
    return p;
  }

  absent(ref: AppRef): boolean {
    const l = this.listing;
    if (!l || l.gen !== this.generation || this.now() - l.at >= this.cacheMs) return false;
    // Not through the prefix cache: unknown app-ids must not fill it.
    const prefix = this.prefixes.get(`${ref.namespace}\u0000${ref.appId}`) ?? prefixOf(ref);
    return !hasEntry(l.names, prefix);
  }

  absentError(ref: AppRef): SidecarError {
    return notFound(ref, this.name, `registry ${this.dir}`);
  }

  peek(ref: AppRef): readonly Endpoint[] | null {
    const hit = this.cache.get(this.prefix(ref));
    if (!hit || hit.gen !== this.generation || this.now() - hit.at >= this.cacheMs) return null;
    const live = this.evicted.filter(hit.eps);
    return live.length ? live : null;
  }

  async resolve(ref: AppRef): Promise<readonly Endpoint[]> {
    this.ensureWatch();
    const key = this.prefix(ref);
    const now = this.now();
    const hit = this.cache.get(key);
    let found: Lookup;
    if (hit && hit.gen === this.generation && now - hit.at < this.cacheMs) {
      found = hit;
    } else {
      let p = this.inflight.get(key);
      if (!p) {
        const gen = this.generation;
        p = Promise.resolve(this.names())
          .then((names) => {
            // An app-id nobody registered costs no file reads: the listing answers it.
            const mine = entryNames(names, key);
            return mine.length ? readEntries(this.dir, mine, this.staleMs) : [];
          })
          .then((entries: LocalEntry[]) => {
            const waiting = entries.find((e) => e.notReady)?.notReady ?? null;
            const list = entries.filter((e) => !e.notReady).map((e) => endpoint(e.host, e.port));
            const l: Lookup = { eps: list, waiting, at: this.now(), gen };
            this.cache.set(key, l);
            return l;
          });
        p.finally(() => this.inflight.delete(key)).catch(() => {});
        this.inflight.set(key, p);
      }
      found = await p;
    }
    const eps = found.eps;
    const live = this.evicted.filter(eps);
    if (live.length === 0) {
      // Registered but not ready (its app refuses connections): say so, not "couldn't find".
      if (eps.length === 0 && found.waiting !== null) throw notReady(ref, found.waiting);
      throw notFound(ref, this.name, eps.length ? `all ${eps.length} instance(s) failed recently` : `registry ${this.dir}`);
    }
    return live;
  }

  evict(ref: AppRef, ep: Endpoint): void {
    this.evicted.add(ep);
    this.cache.delete(this.prefix(ref));
  }

  register(self: Registration): Promise<void> {
    return this.write(self, null);
  }

  registerNotReady(self: Registration, why: string): Promise<void> {
    return this.write(self, why);
  }

  /** Writes this sidecar's entry (ready, or not ready and why) and keeps it fresh. */
  private async write(self: Registration, notReady: string | null): Promise<void> {
    const name = `${prefixOf(self)}${process.pid}~${self.port}.json`;
    const file = path.join(this.dir, name);
    // The same entry changing state is rewritten in place (atomically): callers never see it gone.
    if (this.own?.file === file) {
      clearInterval(this.own.timer);
      this.own = null;
    } else await this.deregister();
    ensurePrivateDir(this.dir);
    const body: Omit<LocalEntry, "file"> = { ...self, pid: process.pid, startedAt: Date.now(), ...(notReady !== null ? { notReady } : {}) };
    const text = JSON.stringify(body);
    await writePrivateFileAsync(file, text);
    const timer = setInterval(() => {
      const t = new Date();
      fs.utimes(file, t, t, (err) => {
        if (!err) return;
        // Our file or the whole directory was removed (a cleanup, a reset): write both again,
        // so every live sidecar is back within one heartbeat.
        try {
          ensurePrivateDir(this.dir);
          this.unwatch();
          this.ensureWatch();
        } catch {
          return; // not writable right now: the next heartbeat tries again
        }
        writePrivateFileAsync(file, text).catch(() => {});
      });
    }, this.heartbeatMs);
    timer.unref?.();
    this.own = { file, timer };
    removeOnExit(file);
  }

  async deregister(): Promise<void> {
    if (!this.own) return;
    clearInterval(this.own.timer);
    await fsp.rm(this.own.file, { force: true });
    ownFiles.delete(this.own.file);
    this.own = null;
  }

  async close(): Promise<void> {
    await this.deregister();
    this.dirWatcher?.close();
    this.dirWatcher = null;
  }
}
