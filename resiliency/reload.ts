// Hot reload of resiliency YAML: watches the resources paths and, when a file's size or mtime
// changed, reads, parses and validates every file in full on a worker thread (reload-worker.ts),
// then hands over a new PolicySet in one step. An invalid change is rejected whole: the running
// policy stays, the problems are logged with file:line, the rejection is counted.

import fs from "node:fs";
import { offThread } from "../core/off-thread.ts";
import { resourcesStamp as stamp } from "../config/yaml.ts";
import type { Logger } from "../core/log.ts";
import type { Metrics } from "../core/metrics.ts";
import { loadPolicySet, resourceFiles } from "./policy/load.ts";
import { ResiliencyError } from "./policy/parse.ts";
import { fromData, toData } from "./policy/transfer.ts";
import type { PolicySet } from "./policy/types.ts";
import type { ReloadAnswer, ReloadRequest } from "./reload-worker.ts";

export interface ReloadOptions {
  readonly paths: readonly string[];
  readonly appId: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly apply: (set: PolicySet) => void;
  /** Quiet period after the last file event before reloading (ms). */
  readonly debounceMs?: number;
  /** Parse on the calling thread instead of a worker (tests on runtimes without TS workers). */
  readonly inProcess?: boolean;
}

/** A reload that takes longer than this (a pathological file) is abandoned and rejected. */
const RELOAD_TIMEOUT_MS = 10_000;

function loadHere(req: ReloadRequest): ReloadAnswer {
  try {
    return { ok: true, set: toData(loadPolicySet(resourceFiles(req.paths), req.appId)) };
  } catch (e) {
    return { ok: false, problems: e instanceof ResiliencyError ? e.problems : [String((e as Error).message)] };
  }
}

/** Starts watching; returns a stop function and `reloadNow` (tests, signals). */
export function watchResiliency(o: ReloadOptions): { stop(): void; reloadNow(): Promise<boolean> } {
  const watchers: fs.FSWatcher[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  let lastStamp = stamp(o.paths);
  /** One reload at a time; events during it ask for one more afterwards. */
  let running: Promise<boolean> | null = null;
  let again = false;
  /** Parses and validates on a worker thread; the answer arrives as plain data. */
  const load = offThread<ReloadRequest, ReloadAnswer>({
    module: "resiliency/reload-worker.ts",
    timeoutMs: RELOAD_TIMEOUT_MS,
    here: loadHere,
    timedOut: (e) => ({ ok: false, problems: [`reading the resources ${e.message}; change rejected`] }),
    what: "resiliency files",
    log: o.log,
    inProcess: o.inProcess,
  });

  const reloadOnce = async (): Promise<boolean> => {
    const req: ReloadRequest = { paths: o.paths, appId: o.appId };
    const answer = await load(req);
    if (stopped) return false;
    if (answer.ok) {
      const set = fromData(answer.set);
      o.apply(set);
      o.metrics.reloads.inc({ result: "applied" });
      o.log.info("resiliency reloaded", { resources: set.resources.join("; ") || "none" });
      return true;
    }
    o.metrics.reloads.inc({ result: "rejected" });
    o.log.error("resiliency change rejected; the running policy stays in force", { problems: answer.problems.length });
    for (const p of answer.problems.slice(0, 20)) o.log.error(`  ${p}`);
    if (answer.problems.length > 20) o.log.error(`  ... and ${answer.problems.length - 20} more`);
    return false;
  };

  const reloadNow = (): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = reloadOnce().finally(() => {
      running = null;
      if (again && !stopped) {
        again = false;
        void reloadNow();
      }
    });
    return running;
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      // Editors fire several events per save; reload only when a file really changed.
      const now = stamp(o.paths);
      if (now === lastStamp) return;
      lastStamp = now;
      void reloadNow();
    }, o.debounceMs ?? 150);
  };

  for (const p of o.paths) {
    try {
      const w = fs.watch(p, schedule);
      w.unref?.();
      watchers.push(w);
    } catch (e) {
      o.log.warn("cannot watch resources path for changes", { path: p, error: (e as Error).message });
    }
  }
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
    reloadNow,
  };
}
