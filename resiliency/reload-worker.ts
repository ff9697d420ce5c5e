// Runs in a worker thread: reads, parses and validates the resiliency files of one reload, so a
// large or hostile file costs this thread's time, never the sidecar's event loop. Answers with
// the PolicySet as plain data, or the problems found (file:line), then the thread ends.

import { parentPort } from "node:worker_threads";
import { loadPolicySet, resourceFiles } from "./policy/load.ts";
import { ResiliencyError } from "./policy/errors.ts";
import { toData } from "./policy/transfer.ts";

export interface ReloadRequest {
  readonly paths: readonly string[];
  readonly appId: string;
}

export type ReloadAnswer = { readonly ok: true; readonly set: ReturnType<typeof toData> } | { readonly ok: false; readonly problems: readonly string[] };

parentPort?.once("message", (req: ReloadRequest) => {
  let answer: ReloadAnswer;
  try {
    answer = { ok: true, set: toData(loadPolicySet(resourceFiles(req.paths), req.appId)) };
  } catch (e) {
    answer = { ok: false, problems: e instanceof ResiliencyError ? e.problems : [String((e as Error).message)] };
  }
  parentPort!.postMessage(answer);
});
