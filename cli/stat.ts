// `meshlet stat [-a app-id]... [--window 10s] [-o table|json] [-w]`: per target app-id, from the
// running sidecars' own metrics history, requests per second, success rate, p50/p95/p99 latency
// and the sidecar-made reasons that failed most over the window that just ended, as
// `linkerd viz stat` shows them.

import { parseFlagsOnly } from "./command-spec.ts";
import { durationFlag } from "./flags.ts";
import { STAT_SPEC } from "./specs/tools.ts";
import { readRuns, type RunRecord } from "./run-table.ts";
import { formatTable, UsageError } from "./ui.ts";
import { statRows, windowFromJSON, type SidecarWindow, type StatRow } from "../observability/stat.ts";
import { STAT_HISTORY_KEEP_MS } from "../observability/stat-history.ts";

/**
 * Every running sidecar's calls over about the last `seconds`, from its own history (a snapshot
 * every 2 s for the last minute), so the answer is at once. A sidecar that stopped meanwhile, or
 * one without that history, is left out.
 */
async function windows(runs: RunRecord[], seconds: number): Promise<SidecarWindow[]> {
  const out: SidecarWindow[] = [];
  await Promise.all(
    runs.map(async (r) => {
      if (r.metricsPort === null) return;
      try {
        const res = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics/window?seconds=${seconds}`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) out.push(windowFromJSON(await res.json()));
      } catch {
        // Stopped between the listing and the request, or answered something else.
      }
    }),
  );
  return out;
}

const ms = (v: number | null) => (v === null ? "-" : v < 10 ? `${v.toFixed(2)}ms` : `${Math.round(v)}ms`);

function render(rows: StatRow[], seconds: number): string {
  if (rows.length === 0) return `No calls between meshlet sidecars on this host in the last ${seconds}s.\n`;
  return formatTable(
    ["APP ID", "REQUESTS", "RPS", "SUCCESS", "P50", "P95", "P99", "TOP ERRORS"],
    rows.map((r) => [
      r.appId,
      String(r.requests),
      r.rps.toFixed(1),
      r.success === null ? "-" : `${(r.success * 100).toFixed(2)}%`,
      ms(r.p50Ms),
      ms(r.p95Ms),
      ms(r.p99Ms),
      r.topErrors.map((e) => `${e.reason} (${e.count})`).join(", ") || "-",
    ]),
  );
}

export async function statCommand(args: string[]): Promise<number> {
  const v = parseFlagsOnly(STAT_SPEC, args);
  const fmt = v.output ?? "table";
  if (fmt !== "table" && fmt !== "json") throw new UsageError(`--output: "${fmt}" is not one of table, json`);
  const windowMs = durationFlag("window", v.window ?? "10s");
  if (windowMs < 1000) throw new UsageError(`--window: ${v.window} is under 1s`);
  if (windowMs > STAT_HISTORY_KEEP_MS) throw new UsageError(`--window: ${v.window} is over ${STAT_HISTORY_KEEP_MS / 1000}s, the history each sidecar keeps (scrape --metrics-port with Prometheus for longer)`);
  const seconds = windowMs / 1000;
  const only = v["app-id"]?.length ? new Set(v["app-id"]) : null;
  const runs = await readRuns();
  if (runs.length === 0) throw new UsageError("no meshlet sidecars are running on this host (MESHLET_HOME); start one with meshlet run");
  const show = async (runs: RunRecord[]) => {
    const rows = statRows(await windows(runs, seconds)).filter((r) => !only || only.has(r.appId));
    const text = fmt === "json" ? JSON.stringify({ windowSeconds: seconds, apps: rows }, null, 2) + "\n" : render(rows, seconds);
    if (v.watch && fmt === "table") process.stdout.write("\x1b[2J\x1b[H");
    process.stdout.write(text);
  };
  await show(runs);
  // Watch: the last window again every 2 s, over the sidecars running then.
  while (v.watch) {
    await new Promise((r) => setTimeout(r, 2000));
    await show(await readRuns());
  }
  return 0;
}
