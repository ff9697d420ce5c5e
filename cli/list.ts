// `meshlet list [-o table|json|yaml]`: the meshlet sidecars running on this host, with the columns
// and JSON keys of `dapr list`, plus each one's readiness as its healthz answers it now.

import { parseFlagsOnly } from "./command-spec.ts";
import { LIST_SPEC } from "./specs/tools.ts";
import { readRuns, type RunRecord } from "./run-table.ts";
import { readiness } from "./run-status.ts";
import { formatTable, UsageError } from "./ui.ts";

function age(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function created(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}.${p(d.getSeconds())}`;
}

function toJson(r: RunRecord, now: number, status: string) {
  return {
    appId: r.appId,
    httpPort: r.httpPort,
    grpcPort: r.grpcPort,
    appPort: r.appPort ?? 0,
    metricsEnabled: r.metricsPort !== null,
    command: r.command,
    age: age(now - r.created),
    created: created(r.created),
    daprdPid: r.pid,
    cliPid: r.pid,
    appPid: r.appPid ?? 0,
    internalPort: r.internalPort,
    maxRequestBodySize: r.maxRequestBodySize,
    mtls: r.mtls ? { enabled: true, identity: r.mtls.id, source: r.mtls.source } : { enabled: false },
    status,
  };
}

export async function listCommand(args: string[]): Promise<number> {
  const v = parseFlagsOnly(LIST_SPEC, args);
  const fmt = v.output ?? "table";
  if (fmt !== "table" && fmt !== "json" && fmt !== "yaml") throw new UsageError(`--output: "${fmt}" is not one of table, json, yaml`);
  const now = Date.now();
  const runs = await readRuns();
  const statuses = await Promise.all(runs.map(readiness));
  const rows = runs.map((r, i) => toJson(r, now, statuses[i]!));
  if (fmt === "json") {
    process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    return 0;
  }
  if (fmt === "yaml") {
    // The same keys as -o json, as `dapr list -o yaml` prints them; YAML is loaded only here.
    const YAML = (await import("yaml")).default;
    process.stdout.write(rows.length ? YAML.stringify(rows) : "[]\n");
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write("No meshlet instances found.\n");
    return 0;
  }
  const head = ["APP ID", "HTTP PORT", "GRPC PORT", "APP PORT", "MTLS", "STATUS", "COMMAND", "AGE", "CREATED", "PID", "APP PID"];
  const table = rows.map((r) => [
    r.appId,
    String(r.httpPort),
    String(r.grpcPort),
    String(r.appPort),
    r.mtls.enabled ? "on" : "off",
    r.status.length > 40 ? r.status.slice(0, 37) + "..." : r.status,
    r.command.length > 20 ? r.command.slice(0, 17) + "..." : r.command,
    r.age,
    r.created,
    String(r.daprdPid),
    String(r.appPid),
  ]);
  process.stdout.write(formatTable(head, table));
  return 0;
}
