// Hot reload of resiliency YAML: watches the resources paths, re-reads and validates every file
// in full, then hands over a new PolicySet in one step. An invalid change is rejected whole:
// the running policy stays, the problems are logged with file:line, the rejection is counted.

import fs from "node:fs";
import { resourceFiles as listResourceFiles } from "../config/yaml.ts";
import type { Logger } from "../proxy/log.ts";
import type { Metrics } from "../proxy/metrics.ts";
import { loadPolicySet, resourceFiles } from "./policy/load.ts";
import { ResiliencyError } from "./policy/parse.ts";
import type { PolicySet } from "./policy/types.ts";

export interface ReloadOptions {
  readonly paths: readonly string[];
  readonly appId: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly apply: (set: PolicySet) => void;
  /** Quiet period after the last file event before reloading (ms). */
  readonly debounceMs?: number;
}

/** Starts watching; returns a stop function. Also exposes `reloadNow` for tests and signals. */
export function watchResiliency(o: ReloadOptions): { stop(): void; reloadNow(): boolean } {
  const watchers: fs.FSWatcher[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastText = snapshot(o.paths);

  const reloadNow = (): boolean => {
    try {
      const set = loadPolicySet(resourceFiles(o.paths), o.appId);
      o.apply(set);
      o.metrics.reloads.inc({ result: "applied" });
      o.log.info("resiliency reloaded", { resources: set.resources.join("; ") || "none" });
      return true;
    } catch (e) {
      o.metrics.reloads.inc({ result: "rejected" });
      const problems = e instanceof ResiliencyError ? e.problems : [String((e as Error).message)];
      o.log.error("resiliency change rejected; the running policy stays in force", { problems: problems.length });
      for (const p of problems) o.log.error(`  ${p}`);
      return false;
    }
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      // Editors fire several events per save; reload only when some content really changed.
      const now = snapshot(o.paths);
      if (now === lastText) return;
      lastText = now;
      reloadNow();
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
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
    reloadNow,
  };
}

/** Contents of every YAML file under the paths, to skip events that changed nothing. */
function snapshot(paths: readonly string[]): string {
  const parts: string[] = [];
  for (const p of paths) {
    try {
      for (const f of listResourceFiles([p])) parts.push(f, fs.readFileSync(f, "utf8"));
    } catch {
      parts.push(p, "<unreadable>");
    }
  }
  return parts.join("\u0000");
}
