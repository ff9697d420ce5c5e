// `meshlet resiliency explain | validate`: the effective policy for one call, step by step in
// stack order with sources (offline from YAML, or from a running sidecar with --from), and an
// offline check of resiliency files that exits non-zero on any problem.

import { parseDuration } from "../config/units.ts";
import { loadPolicySet, resourceFiles } from "../resiliency/policy/load.ts";
import { resolvePolicy } from "../resiliency/policy/resolve.ts";
import { explainText } from "../proxy/stack.ts";
import { parseAppId } from "../proxy/route.ts";
import { SidecarError } from "../core/errors.ts";
import { parseFlags } from "./flags.ts";
import { readRuns } from "./run-table.ts";
import { fail, ok, UsageError } from "./ui.ts";
import { parseArgs } from "node:util";

const EXPLAIN = {
  "app-id": { type: "string", short: "a" },
  method: { type: "string", short: "m" },
  verb: { type: "string", short: "v" },
  "resources-path": { type: "string", multiple: true },
  "components-path": { type: "string", short: "d", multiple: true },
  "caller-app-id": { type: "string" },
  "app-timeout": { type: "string" },
  from: { type: "string" },
} as const;

async function explain(args: string[]): Promise<number> {
  const v = parseFlags(args, EXPLAIN);
  const raw = v["app-id"];
  if (!raw) throw new UsageError("--app-id (-a) is required: the app-id being called");
  const verb = (v.verb ?? "GET").toUpperCase();
  const method = v.method ?? "/";
  if (v.from) {
    const run = (await readRuns()).find((r) => r.appId === v.from);
    if (!run) throw new UsageError(`--from: no running meshlet with app-id ${v.from}`);
    const q = new URLSearchParams({ appId: raw, method, verb });
    const res = await fetch(`http://127.0.0.1:${run.httpPort}/v1.0-meshlet/explain?${q}`);
    process.stdout.write(await res.text());
    return res.ok ? 0 : 1;
  }
  const id = parseAppId(raw, "default");
  if (id instanceof SidecarError) throw new UsageError(id.message);
  const paths = [...(v["resources-path"] ?? []), ...(v["components-path"] ?? [])];
  const caller = v["caller-app-id"] ?? null;
  const set = loadPolicySet(resourceFiles(paths), caller);
  let fallback = 60_000;
  try {
    fallback = parseDuration(v["app-timeout"] ?? "60s");
  } catch (e) {
    throw new UsageError(`--app-timeout: ${(e as Error).message}`);
  }
  const policy = resolvePolicy(set, id.appId, fallback);
  process.stdout.write(explainText(set, policy, caller === id.appId, verb, method));
  return 0;
}

async function validate(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
  if (positionals.length === 0) throw new UsageError("usage: meshlet resiliency validate <file-or-dir>...");
  const set = loadPolicySet(resourceFiles(positionals), null);
  ok(`valid: ${set.resources.length} Resiliency resource(s): ${set.resources.join(", ") || "none found"}`);
  return 0;
}

export async function resiliencyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "explain") return explain(rest);
  if (sub === "validate") return validate(rest);
  fail(`unknown resiliency command "${sub ?? ""}" (commands: explain, validate)`);
  return 1;
}
