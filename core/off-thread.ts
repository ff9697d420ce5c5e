// One request answered by a fresh worker thread, for work that must not hold the event loop
// (parsing a large or hostile YAML file on reload): the answer arrives as plain data, and a
// worker that takes too long is terminated and its request rejected.

import { Worker } from "node:worker_threads";

export class OffThreadTimeout extends Error {}

/**
 * The worker module: `fromProjectRoot` (`resources/read-worker.ts`) under the project root,
 * found from this file; in the single binary (`bun build --compile` with the worker files as extra
 * entry points, package.json "build") Bun keeps that path in its embedded file system.
 */
function workerModule(fromProjectRoot: string): URL | string {
  return import.meta.url.includes("/$bunfs/") ? `/$bunfs/root/${fromProjectRoot}` : new URL(`../${fromProjectRoot}`, import.meta.url);
}

/** Posts `req` to a new worker running the module at `fromProjectRoot` and resolves with its one answer. */
export function askWorker<Req, Ans>(fromProjectRoot: string, req: Req, timeoutMs: number): Promise<Ans> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerModule(fromProjectRoot));
    w.unref();
    const timer = setTimeout(() => {
      void w.terminate();
      reject(new OffThreadTimeout(`took longer than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    timer.unref?.();
    w.once("message", (a: Ans) => {
      clearTimeout(timer);
      void w.terminate();
      resolve(a);
    });
    w.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    w.postMessage(req);
  });
}

export interface OffThreadWork<Req, Ans> {
  /** The worker module under the project root (`resources/read-worker.ts`). */
  readonly module: string;
  readonly timeoutMs: number;
  /** The same work on the calling thread: where no worker can start, and for `inProcess`. */
  readonly here: (req: Req) => Ans;
  /** The answer when the worker took longer than `timeoutMs` (it has been terminated). */
  readonly timedOut: (e: OffThreadTimeout) => Ans;
  /** Names the work in the warning (`resiliency files`). */
  readonly what: string;
  readonly log: { warn(msg: string, fields?: Record<string, unknown>): void };
  /** Always on the calling thread (tests on runtimes without TypeScript workers). */
  readonly inProcess?: boolean;
}

/**
 * The one way reloads leave the event loop: a worker per request; a timeout answers `timedOut`;
 * where this runtime cannot start the worker, the work runs here, blocking but correct, and a
 * warning says so once (a binary whose workers went missing must not degrade silently).
 */
export function offThread<Req, Ans>(w: OffThreadWork<Req, Ans>): (req: Req) => Promise<Ans> {
  let warned = false;
  return async (req) => {
    if (w.inProcess) return w.here(req);
    try {
      return await askWorker<Req, Ans>(w.module, req, w.timeoutMs);
    } catch (e) {
      if (e instanceof OffThreadTimeout) return w.timedOut(e);
      if (!warned) w.log.warn(`${w.what} are parsed on the event loop: no worker thread`, { error: (e as Error).message });
      warned = true;
      return w.here(req);
    }
  };
}
