// Runs in a worker thread: one read of the resources paths (read.ts), so a large or hostile file
// costs this thread's time, never the sidecar's event loop. Answers with plain data (the policy
// set in its transferable form), then the thread ends.

import { parentPort } from "node:worker_threads";
import { toData, type PolicySetData } from "../resiliency/policy/transfer.ts";
import { readResources, type ComponentsRead, type ResourcesRequest } from "./read.ts";

export type ResourcesReadData = {
  readonly policies: { readonly ok: true; readonly set: PolicySetData } | { readonly ok: false; readonly problems: readonly string[] };
  readonly components: ComponentsRead;
};

/** A read as plain data that survives the structured clone to the sidecar's thread. */
export function readAsData(req: ResourcesRequest): ResourcesReadData {
  const r = readResources(req);
  return { policies: r.policies.ok ? { ok: true, set: toData(r.policies.set) } : r.policies, components: r.components };
}

parentPort?.once("message", (req: ResourcesRequest) => parentPort!.postMessage(readAsData(req)));
