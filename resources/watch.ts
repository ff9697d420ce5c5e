// Hot reload of everything in the resources paths: one watch (fs.watch events for speed, a poll
// each second for what they miss: atomic renames, ConfigMap symlink swaps), one read per change
// on a worker thread, and the read handed to each consumer (resiliency, components) in turn.

import fs from "node:fs";
import { resourcesStamp } from "../config/yaml.ts";
import { offThread } from "../core/off-thread.ts";
import type { Logger } from "../core/log.ts";
import { fromData } from "../resiliency/policy/transfer.ts";
import { readAsData, type ResourcesReadData } from "./read-worker.ts";
import type { ResourcesRead, ResourcesRequest } from "./read.ts";

export interface ResourcesConsumer {
  /** The resources as read after their files changed. */
  changed(read: ResourcesRead): void | Promise<void>;
  /** Every poll: work of its own to try again (a store that could not connect). */
  poll?(): void | Promise<void>;
}

export interface ResourcesWatchOptions {
  readonly paths: readonly string[];
  readonly appId: string;
  readonly log: Logger;
  readonly consumers: readonly ResourcesConsumer[];
  readonly pollMs?: number;
  /** Quiet period after a file event before reading (editors fire several per save). */
  readonly debounceMs?: number;
  /** Read on the calling thread instead of a worker (tests on runtimes without TS workers). */
  readonly inProcess?: boolean;
  /** false: only the poll and check() notice changes (tests that step through them). */
  readonly fileEvents?: boolean;
}

export interface ResourcesWatch {
  /** Reads and hands over now if the files changed, then polls the consumers (tests, the poll). */
  check(): Promise<boolean>;
  stop(): void;
}

/** A read that takes longer than this (a pathological file) is abandoned and the change refused. */
const READ_TIMEOUT_MS = 10_000;

export function watchResources(o: ResourcesWatchOptions): ResourcesWatch {
  let stamp = resourcesStamp(o.paths);
  let running: Promise<boolean> | null = null;
  let stopped = false;
  const read = offThread<ResourcesRequest, ResourcesReadData>({
    module: "resources/read-worker.ts",
    timeoutMs: READ_TIMEOUT_MS,
    here: readAsData,
    timedOut: (e) => {
      const problem = `reading the resources ${e.message}; change refused`;
      return { policies: { ok: false, problems: [problem] }, components: { ok: false, problem } };
    },
    what: "resource files",
    log: o.log,
    inProcess: o.inProcess,
  });

  const once = async (): Promise<boolean> => {
    const now = resourcesStamp(o.paths);
    let changed = false;
    if (now !== stamp) {
      stamp = now;
      const data = await read({ paths: o.paths, appId: o.appId });
      if (stopped) return false;
      const got: ResourcesRead = { policies: data.policies.ok ? { ok: true, set: fromData(data.policies.set) } : data.policies, components: data.components };
      for (const c of o.consumers) await guarded(() => c.changed(got));
      changed = true;
    }
    for (const c of o.consumers) await guarded(() => c.poll?.());
    return changed;
  };
  // A consumer that throws is logged; the others still get the read, and the watch goes on.
  const guarded = async (f: () => void | Promise<void>): Promise<void> => {
    try {
      await f();
    } catch (e) {
      o.log.error("applying a change of the resources failed", { error: (e as Error).message });
    }
  };
  const check = (): Promise<boolean> => (running ??= once().finally(() => (running = null)));

  const timer = setInterval(() => void check(), o.pollMs ?? 1_000);
  timer.unref();
  let soon: ReturnType<typeof setTimeout> | null = null;
  const watchers: fs.FSWatcher[] = [];
  for (const p of o.fileEvents === false ? [] : o.paths) {
    try {
      const w = fs.watch(p, () => {
        if (soon) clearTimeout(soon);
        soon = setTimeout(() => {
          soon = null;
          void check();
        }, o.debounceMs ?? 150);
      });
      w.unref?.();
      watchers.push(w);
    } catch (e) {
      o.log.warn("cannot watch resources path for changes; polling it each second", { path: p, error: (e as Error).message });
    }
  }
  return {
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
      if (soon) clearTimeout(soon);
      for (const w of watchers) w.close();
    },
  };
}
