// Runs in a worker thread: reads and parses the resources paths' Component documents for one
// reload, so a large or hostile file costs this thread's time, never the sidecar's event loop.
// Answers with the components as plain data, or the one-line problem, then the thread ends.

import { parentPort } from "node:worker_threads";
import { componentsFor, type ComponentSpec } from "../config/configuration.ts";
import { readResourcePaths } from "../config/yaml.ts";

export interface ReadRequest {
  readonly paths: readonly string[];
  readonly appId: string;
}

export type ReadAnswer = { readonly ok: true; readonly specs: ComponentSpec[] } | { readonly ok: false; readonly problem: string };

/** The same reading, on the calling thread (runtimes without TypeScript workers, tests). */
export function readComponents(req: ReadRequest): ReadAnswer {
  try {
    return { ok: true, specs: componentsFor(readResourcePaths(req.paths), req.appId) };
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
}

parentPort?.once("message", (req: ReadRequest) => parentPort!.postMessage(readComponents(req)));
