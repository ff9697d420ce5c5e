// `meshlet invoke`: calls a method on a running app through that app's own sidecar, as
// `dapr invoke` does (looked up in the local run table, Content-Type application/json).

import fs from "node:fs";
import { parseFlagsOnly } from "./command-spec.ts";
import { INVOKE_SPEC } from "./specs/tools.ts";
import { readRuns } from "./run-table.ts";
import { fail, ok, UsageError } from "./ui.ts";

export async function invokeCommand(args: string[]): Promise<number> {
  const v = parseFlagsOnly(INVOKE_SPEC, args);
  const appId = v["app-id"];
  const method = v.method;
  if (!appId) throw new UsageError("--app-id (-a) is required");
  if (!method) throw new UsageError("--method (-m) is required");
  if (v.data !== undefined && v["data-file"] !== undefined) throw new UsageError("use either --data or --data-file, not both");
  const verb = (v.verb ?? "POST").toUpperCase();
  let body: Uint8Array<ArrayBuffer> | string | undefined = v.data;
  if (v["data-file"] !== undefined) {
    try {
      body = new Uint8Array(fs.readFileSync(v["data-file"]));
    } catch (e) {
      throw new UsageError(`--data-file: ${(e as Error).message}`);
    }
  }
  const run = (await readRuns()).find((r) => r.appId === appId);
  if (!run) {
    fail(`error invoking app ${appId}: app ID ${appId} not found`);
    return 1;
  }
  const url = `http://127.0.0.1:${run.httpPort}/v1.0/invoke/${encodeURIComponent(appId)}/method/${method.replace(/^\//, "")}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: verb,
      headers: { "content-type": "application/json" },
      body: verb === "GET" || verb === "HEAD" ? undefined : body,
    });
  } catch (e) {
    fail(`error invoking app ${appId}: ${(e as Error).message}`);
    return 1;
  }
  const text = await res.text();
  if (res.status < 200 || res.status > 399) {
    fail(`error invoking app ${appId}: ${res.status} ${res.statusText}${text ? `: ${text}` : ""}`);
    return 1;
  }
  if (text) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
  ok("App invoked successfully");
  return 0;
}
