// One request answered by a fresh worker thread, for work that must not hold the event loop
// (parsing a large or hostile YAML file on reload): the answer arrives as plain data, and a
// worker that takes too long is terminated and its request rejected.

import { Worker } from "node:worker_threads";

export class OffThreadTimeout extends Error {}

/**
 * The worker module: `fromProjectRoot` (`resiliency/reload-worker.ts`) under the project root,
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
