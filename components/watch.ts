// Hot reload of `kind: Component` documents: the resources paths are polled once a second (atomic
// renames and ConfigMap symlink swaps included); when the components for this app changed, the
// new set is opened and swapped in (live.ts); a change that fails leaves the set in force, and one
// whose stores could not open (a server down) is tried again every 10 s.

import type { ComponentSpec } from "../config/configuration.ts";
import { resourcesStamp } from "../config/yaml.ts";
import { offThread } from "../core/off-thread.ts";
import type { Logger } from "../core/log.ts";
import type { Metrics } from "../core/metrics.ts";
import type { LiveComponents } from "./live.ts";
import { readComponents, type ReadAnswer, type ReadRequest } from "./read-worker.ts";

export interface ComponentWatchOptions {
  readonly paths: readonly string[];
  readonly appId: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly live: Pick<LiveComponents, "reload">;
  /** The components the sidecar started with. */
  readonly initial: readonly ComponentSpec[];
  readonly pollMs?: number;
  /** Wall time for the retry of a change that failed to open (tests pass a fake one). */
  readonly now?: () => number;
  /** Parse on the calling thread instead of a worker (tests on runtimes without TS workers). */
  readonly inProcess?: boolean;
}

/** A read that takes longer than this (a pathological file) is abandoned and the change refused. */
const READ_TIMEOUT_MS = 10_000;

export interface ComponentWatch {
  stop(): void;
  /** Checks now (tests, and the poll): true when changed components were swapped in. */
  check(): Promise<boolean>;
}

/** How soon a change that failed to open is tried again (its files unchanged). */
const RETRY_MS = 10_000;

/** The components as they would be opened: a resiliency-only edit changes nothing here. */
const print = (specs: readonly ComponentSpec[]) => JSON.stringify(specs.map((c) => [c.name, c.type, c.version, c.metadata, c.secretRefs, c.secretStore, c.ignoreErrors]));

export function watchComponents(o: ComponentWatchOptions): ComponentWatch {
  let stamp = resourcesStamp(o.paths);
  let last = print(o.initial);
  let running: Promise<boolean> | null = null;
  /** A change whose stores could not open (Redis unreachable) is tried again from this time on. */
  let retryAt = Infinity;
  const clock = o.now ?? Date.now;
  /** Parses on a worker thread: a 1 MB file must not stall the sidecar (test/e2e/hostile-config.test.ts). */
  const read = offThread<ReadRequest, ReadAnswer>({
    module: "components/read-worker.ts",
    timeoutMs: READ_TIMEOUT_MS,
    here: readComponents,
    timedOut: (e) => ({ ok: false, problem: `reading the resources ${e.message}; change refused` }),
    what: "component files",
    log: o.log,
    inProcess: o.inProcess,
  });

  const reload = async (): Promise<boolean> => {
    const now = resourcesStamp(o.paths);
    if (now === stamp && clock() < retryAt) return false;
    stamp = now;
    retryAt = Infinity;
    const req = { paths: o.paths, appId: o.appId };
    const answer = await read(req);
    if (!answer.ok) {
      o.metrics.componentReloads.inc({ result: "rejected" });
      o.log.error("components not reloaded: the components in force stay", { error: answer.problem });
      return false;
    }
    const specs = answer.specs;
    const p = print(specs);
    if (p === last) return false;
    try {
      await o.live.reload(specs);
    } catch (e) {
      o.metrics.componentReloads.inc({ result: "rejected" });
      retryAt = clock() + RETRY_MS;
      o.log.error("components not reloaded: the components in force stay", { error: (e as Error).message, retry_in_s: RETRY_MS / 1000 });
      return false;
    }
    last = p;
    o.metrics.componentReloads.inc({ result: "applied" });
    o.log.info("components reloaded", { components: specs.map((c) => `${c.name} (${c.type})`).join(", ") || "none" });
    return true;
  };

  const check = (): Promise<boolean> => (running ??= reload().finally(() => (running = null)));
  const timer = setInterval(() => void check(), o.pollMs ?? 1_000);
  timer.unref();
  return { stop: () => clearInterval(timer), check };
}
