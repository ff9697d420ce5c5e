// `meshlet bench <app-id>/<method>`: a load test through the local sidecar with autocannon
// underneath: fixed rate or flat out, a live progress line, and a summary of requests, errors by
// status and meshlet reason code, and latency percentiles (recorded in microseconds). A fixed rate
// is paced evenly by default (cli/pacer.mjs); `--pace burst` gives stock autocannon -R.

import fs from "node:fs";
import autocannon from "autocannon";
import { evenPacer } from "./pacer.mjs";
import { quantile } from "./quantile.mjs";
import { parseFlags } from "./flags.ts";
import { readRuns } from "./run-table.ts";
import { UsageError } from "./ui.ts";
import { parseDuration } from "../config/units.ts";

const OPTIONS = {
  rate: { type: "string", short: "r" },
  pace: { type: "string" },
  duration: { type: "string", short: "d" },
  connections: { type: "string", short: "c" },
  body: { type: "string" },
  "body-file": { type: "string" },
  verb: { type: "string", short: "v" },
  output: { type: "string", short: "o" },
  "dapr-http-port": { type: "string", short: "H" },
  from: { type: "string" },
} as const;

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
  const { parseArgs } = await import("node:util");
  const { values: v, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  parseFlags(args.filter((a) => !positionals.includes(a)), OPTIONS);
  const target = positionals[0];
  const slash = target?.indexOf("/") ?? -1;
  if (!target || slash <= 0) throw new UsageError("usage: meshlet bench <app-id>/<method> [--rate N [--pace even|burst]] [--duration 10s] [--connections N] [--body S | --body-file F] [--verb V] [-o json]");
  const appId = target.slice(0, slash);
  const method = target.slice(slash + 1);
  const durationS = parseDuration(v.duration ?? "10s") / 1000;
  if (!(durationS > 0)) throw new UsageError("--duration must be positive");
  const rate = v.rate ? Number(v.rate) : undefined;
  const connections = Number(v.connections ?? 10);
  if (!(connections > 0) || (rate !== undefined && !(rate > 0))) throw new UsageError("--rate and --connections must be positive numbers");
  if (v.pace !== undefined && v.pace !== "even" && v.pace !== "burst") throw new UsageError(`--pace must be even or burst, not ${v.pace}`);
  const pace = rate === undefined ? "max" : (v.pace ?? "even");
  const pacer = pace === "even" ? evenPacer(rate!) : null;
  let body: Buffer | undefined = v.body !== undefined ? Buffer.from(v.body) : undefined;
  if (v["body-file"]) body = fs.readFileSync(v["body-file"]);
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
  events.on("tick", (c: { counter: number }) => {
    secs++;
    if (live) process.stderr.write(`\r${secs}s  ${c.counter} req/s  total ${lat.length} ok  errors ${Object.values(byStatus).reduce((a, b) => a + b, 0)}   `);
  });
  const result = await new Promise<autocannon.Result>((resolve) => events.on("done", resolve));
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
  if (json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  else printSummary(summary);
  return 0;
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
