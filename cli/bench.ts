// `meshlet bench <app-id>/<method>`: a load test through the local sidecar with autocannon
// underneath: fixed rate or flat out, a live progress line, and a summary of requests, errors by
// status and meshlet reason code, and latency percentiles (recorded in microseconds). A fixed rate
// is paced evenly by default (cli/pacer.mjs); `--pace burst` gives stock autocannon -R.

import fs from "node:fs";
import autocannon from "autocannon";
import { evenPacer } from "./pacer.mjs";
import { quantile } from "./quantile.mjs";
import { durationFlag } from "./flags.ts";
import { parseCommand } from "./command-spec.ts";
import { BENCH_SPEC } from "./specs/tools.ts";
import { readRuns } from "./run-table.ts";
import { UsageError } from "./ui.ts";

export interface BenchSummary {
  url: string;
  verb: string;
  /** How a fixed rate was paced: "even", "burst", or "max" without --rate. */
  pace: "even" | "burst" | "max";
  durationS: number;
  requests: number;
  ok: number;
  rps: number;
  errors: { byStatus: Record<string, number>; byReason: Record<string, number>; transport: number };
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; p999: number | null; max: number | null };
}

async function sidecarPort(v: { "dapr-http-port"?: string; from?: string }): Promise<number> {
  if (v["dapr-http-port"]) return Number(v["dapr-http-port"]);
  const runs = await readRuns();
  if (v.from) {
    const r = runs.find((x) => x.appId === v.from);
    if (!r) throw new UsageError(`--from: no running meshlet with app-id ${v.from}`);
    return r.httpPort;
  }
  if (process.env.DAPR_HTTP_PORT) return Number(process.env.DAPR_HTTP_PORT);
  return runs[0]?.httpPort ?? 3500;
}

export async function benchCommand(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand(BENCH_SPEC, args);
  const target = positionals[0];
  const slash = target?.indexOf("/") ?? -1;
  if (!target || slash <= 0) throw new UsageError(`usage: meshlet ${BENCH_SPEC.usage} (meshlet bench --help shows the flags)`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}" (one <app-id>/<method> per run)`);
  const appId = target.slice(0, slash);
  const method = target.slice(slash + 1);
  const durationS = durationFlag("duration", v.duration ?? "10s") / 1000;
  if (!(durationS > 0)) throw new UsageError(`--duration: must be above zero, not "${v.duration}"`);
  const rate = v.rate !== undefined ? positive("rate", v.rate) : undefined;
  const connections = v.connections !== undefined ? positive("connections", v.connections, true) : 10;
  if (v.pace !== undefined && v.pace !== "even" && v.pace !== "burst") throw new UsageError(`--pace: "${v.pace}" is not even or burst`);
  if (v.output !== undefined && v.output !== "text" && v.output !== "json") throw new UsageError(`--output: "${v.output}" is not text or json`);
  const maxErrors = errorAllowance(v["max-errors"] ?? "0");
  if (v.body !== undefined && v["body-file"] !== undefined) throw new UsageError("use either --body or --body-file, not both");
  const pace = rate === undefined ? "max" : (v.pace ?? "even");
  const pacer = pace === "even" ? evenPacer(rate!) : null;
  let body: Buffer | undefined = v.body !== undefined ? Buffer.from(v.body) : undefined;
  if (v["body-file"]) {
    try {
      body = fs.readFileSync(v["body-file"]);
    } catch (e) {
      throw new UsageError(`--body-file: ${(e as Error).message}`);
    }
  }
  const verb = (v.verb ?? (body ? "POST" : "GET")).toUpperCase();
  const port = await sidecarPort(v);
  const url = `http://127.0.0.1:${port}/v1.0/invoke/${appId}/method/${method}`;
  const json = v.output === "json";

  const lat: number[] = [];
  const byStatus: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  const inst = autocannon({
    url,
    method: verb as "GET",
    body,
    connections,
    overallRate: pace === "burst" ? rate : undefined,
    setupClient: pacer ? (c: unknown) => pacer.setupClient(c) : undefined,
    duration: durationS,
    requests: [
      {
        onResponse: (status, _body, _ctx, headers) => {
          if (status < 200 || status > 399) {
            byStatus[status] = (byStatus[status] ?? 0) + 1;
            const reason = headers?.["meshlet-reason"] as string | undefined;
            if (reason) byReason[reason] = (byReason[reason] ?? 0) + 1;
          }
        },
      },
    ],
  });
  const events = inst as unknown as NodeJS.EventEmitter;
  pacer?.start();
  events.on("response", (_c: unknown, status: number, _b: number, ms: number) => {
    if (status >= 200 && status < 400) lat.push(ms);
  });
  let secs = 0;
  const live = !json && process.stderr.isTTY;
  const progress = (c: { counter: number }) => {
    secs++;
    if (live) process.stderr.write(`\r${secs}s  ${c.counter} req/s  total ${lat.length} ok  errors ${Object.values(byStatus).reduce((a, b) => a + b, 0)}   `);
  };
  events.on("tick", progress);
  const result = await new Promise<autocannon.Result>((resolve) => events.on("done", resolve));
  // The progress line ends with the run: no tick may redraw it under the summary.
  events.off("tick", progress);
  pacer?.stop();
  // Evenly paced, the rate counts from the first paced request (connections open before it).
  const pacedS = pacer?.startedAt ? (performance.now() - pacer.startedAt) / 1000 : result.duration;
  if (live) process.stderr.write("\n");
  lat.sort((a, b) => a - b);
  const q = (p: number) => quantile(lat, p);
  const summary: BenchSummary = {
    url,
    verb,
    pace,
    durationS: result.duration,
    requests: result.requests.total,
    ok: lat.length,
    rps: lat.length / pacedS,
    errors: { byStatus, byReason, transport: result.errors + result.timeouts },
    latencyMs: { p50: q(50), p90: q(90), p99: q(99), p999: q(99.9), max: lat.length ? lat[lat.length - 1]! : null },
  };
  const failed = summary.requests - summary.ok + summary.errors.transport;
  const allowed = maxErrors.share === null ? maxErrors.count : Math.floor(maxErrors.share * Math.max(summary.requests, 1));
  if (json) process.stdout.write(JSON.stringify({ ...summary, failed, maxErrors: allowed, pass: failed <= allowed && summary.requests > 0 }, null, 2) + "\n");
  else printSummary(summary);
  if (summary.requests === 0) {
    process.stderr.write("❌  no request was answered: is the sidecar running (meshlet list)?\n");
    return 1;
  }
  if (failed > allowed) {
    process.stderr.write(`❌  ${failed} of ${summary.requests + summary.errors.transport} requests failed (allowed: ${allowed}${maxErrors.share === null ? "" : `, ${v["max-errors"]}`}); exit code 1\n`);
    return 1;
  }
  return 0;
}

/** A positive number flag (a whole one when `whole`); one UsageError line otherwise. */
function positive(name: string, v: string, whole = false): number {
  const n = Number(v);
  if (!(n > 0) || (whole && !Number.isInteger(n))) throw new UsageError(`--${name}: "${v}" is not a positive ${whole ? "whole number" : "number"}`);
  return n;
}

/** --max-errors: a count of failed requests, or a share of them ("0.5%"). */
function errorAllowance(v: string): { count: number; share: number | null } {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v.trim());
  if (pct) return { count: 0, share: Number(pct[1]) / 100 };
  if (/^\d+$/.test(v.trim())) return { count: Number(v), share: null };
  throw new UsageError(`--max-errors: "${v}" is not a count (5) or a share (0.5%)`);
}

function printSummary(s: BenchSummary): void {
  const f = (n: number | null) => (n === null ? "-" : n.toFixed(2));
  const lines = [
    `${s.verb} ${s.url}  (${s.durationS.toFixed(1)}s, ${s.pace === "max" ? "flat out" : `${s.pace} pacing`})`,
    `requests  ${s.requests}   ok ${s.ok}   ${s.rps.toFixed(0)} ok/s   transport errors ${s.errors.transport}`,
    `latency   p50 ${f(s.latencyMs.p50)} ms   p90 ${f(s.latencyMs.p90)} ms   p99 ${f(s.latencyMs.p99)} ms   p99.9 ${f(s.latencyMs.p999)} ms   max ${f(s.latencyMs.max)} ms`,
  ];
  const st = Object.entries(s.errors.byStatus);
  if (st.length) lines.push(`errors    ${st.map(([k, n]) => `HTTP ${k}: ${n}`).join("   ")}`);
  const rs = Object.entries(s.errors.byReason);
  if (rs.length) lines.push(`reasons   ${rs.map(([k, n]) => `${k}: ${n}`).join("   ")}`);
  process.stdout.write(lines.join("\n") + "\n");
}
