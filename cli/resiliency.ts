// `meshlet resiliency explain | validate`: the effective policy for one call, step by step in
// stack order with sources (offline from YAML, or from a running sidecar with --from), and an
// offline check of resiliency files that exits non-zero on any problem.

import { loadPolicySet, resourceFiles } from "../resiliency/policy/load.ts";
import { resolvePolicy } from "../resiliency/policy/resolve.ts";
import { explainText } from "../proxy/stack.ts";
import { explainComponent } from "../resiliency/explain.ts";
import { resolveComponentPolicy } from "../resiliency/policy/resolve-component.ts";
import { parseAppId } from "../proxy/route.ts";
import { SidecarError } from "../core/errors.ts";
import { durationFlag } from "./flags.ts";
import { helpText, parseCommand, parseFlagsOnly } from "./command-spec.ts";
import { RESILIENCY_EXPLAIN_SPEC, RESILIENCY_SPEC, RESILIENCY_VALIDATE_SPEC } from "./specs/resiliency.ts";
import { readRuns } from "./run-table.ts";
import { fail, ok, UsageError } from "./ui.ts";

async function explain(args: string[]): Promise<number> {
  const v = parseFlagsOnly(RESILIENCY_EXPLAIN_SPEC, args);
  if (v.component) return explainComponentCall(v.component, [...(v["resources-path"] ?? []), ...(v["components-path"] ?? [])], v["caller-app-id"] ?? null);
  const raw = v["app-id"];
  if (!raw) throw new UsageError("--app-id (-a) is required: the app-id being called (or --component NAME)");
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
  const fallback = durationFlag("app-timeout", v["app-timeout"] ?? "60s");
  const policy = resolvePolicy(set, id.appId, fallback);
  process.stdout.write(explainText(set, policy, caller === id.appId, verb, method));
  return 0;
}

/** A component's policy, offline: its type comes from its Component document in the same paths. */
async function explainComponentCall(name: string, paths: string[], caller: string | null): Promise<number> {
  const [{ componentsFor }, { readResourcePaths }] = await Promise.all([import("../config/configuration.ts"), import("../config/yaml.ts")]);
  const spec = componentsFor(readResourcePaths(paths), caller ?? "").find((c) => c.name === name);
  const type = spec?.type ?? (name === "statestore" ? "state.sqlite" : null);
  if (!type) throw new UsageError(`--component: no Component named ${name} in ${paths.join(", ") || "(no --resources-path)"}`);
  const set = loadPolicySet(resourceFiles(paths), caller);
  process.stdout.write(explainComponent(resolveComponentPolicy(set, name, type), type, set.resources));
  return 0;
}

async function validate(args: string[]): Promise<number> {
  const { positionals } = parseCommand(RESILIENCY_VALIDATE_SPEC, args);
  if (positionals.length === 0) throw new UsageError("usage: meshlet resiliency validate <file-or-dir>...");
  const set = loadPolicySet(resourceFiles(positionals), null);
  ok(`valid: ${set.resources.length} Resiliency resource(s): ${set.resources.join(", ") || "none found"}`);
  return 0;
}

export async function resiliencyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "explain") return explain(rest);
  if (sub === "validate") return validate(rest);
  if (!sub) {
    process.stdout.write(helpText(RESILIENCY_SPEC));
    return 1;
  }
  fail(`unknown resiliency command "${sub}" (commands: explain, validate)`);
  return 1;
}
