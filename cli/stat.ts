// `meshlet stat [-a app-id]... [--window 10s] [-o table|json] [-w]`: per target app-id, from the
// running sidecars' own /metrics, requests per second, success rate, p50/p95/p99 latency and the
// sidecar-made reasons that failed most over the last window, as `linkerd viz stat` shows them.

import { parseFlagsOnly } from "./command-spec.ts";
import { durationFlag } from "./flags.ts";
import { STAT_SPEC } from "./specs/tools.ts";
import { readRuns } from "./run-table.ts";
import { formatTable, UsageError } from "./ui.ts";
import { snapshot, statRows, type Family, type Snapshot, type StatRow } from "../observability/stat.ts";

/** Every running sidecar's metrics (as JSON: exact, no text parsing), keyed by sidecar (app-id and pid). */
async function sample(): Promise<Map<string, Snapshot>> {
  const out = new Map<string, Snapshot>();
  await Promise.all(
    (await readRuns()).map(async (r) => {
      if (r.metricsPort === null) return;
      try {
        const res = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics.json`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) out.set(`${r.appId}/${r.pid}`, snapshot((await res.json()) as Family[]));
      } catch {
        // A sidecar that stopped between the listing and the scrape is left out.
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
  const only = v["app-id"]?.length ? new Set(v["app-id"]) : null;
  const show = (before: Map<string, Snapshot>, after: Map<string, Snapshot>, seconds: number) => {
    const rows = statRows(before, after, seconds).filter((r) => !only || only.has(r.appId));
    process.stdout.write(fmt === "json" ? JSON.stringify({ windowSeconds: seconds, apps: rows }, null, 2) + "\n" : render(rows, seconds));
  };
  if ((await readRuns()).length === 0) throw new UsageError("no meshlet sidecars are running on this host (MESHLET_HOME); start one with meshlet run");
  if (!v.watch) {
    const before = await sample();
    // The window is the one starting now: on a terminal, say so while it runs.
    const tty = process.stderr.isTTY === true;
    if (tty) process.stderr.write(`measuring the calls of the next ${windowMs / 1000}s (--window to change, -w to keep watching)...`);
    await new Promise((r) => setTimeout(r, windowMs));
    if (tty) process.stderr.write("\r\x1b[K");
    show(before, await sample(), windowMs / 1000);
    return 0;
  }
  // Watch: a sample every second, shown every 2 s over the last window (or since start).
  const history: Array<{ at: number; snap: Map<string, Snapshot> }> = [{ at: Date.now(), snap: await sample() }];
  for (let tick = 1; ; tick++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = Date.now();
    history.push({ at: now, snap: await sample() });
    while (history.length > 2 && now - history[1]!.at >= windowMs) history.shift();
    if (tick % 2) continue;
    const first = history[0]!;
    if (fmt === "table") process.stdout.write("\x1b[2J\x1b[H");
    show(first.snap, history[history.length - 1]!.snap, (now - first.at) / 1000);
  }
}
