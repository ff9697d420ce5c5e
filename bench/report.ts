// Turns benchmark results into the table people read: latency percentiles per path, the latency
// added over direct, CPU in vCPU and peak RSS per proxy process, and throughput ratios.

import type { LoadResult } from "./harness.ts";

export interface PathResult {
  name: string;
  load: LoadResult;
  /** Per charged process, in the order the path lists them. */
  vcpu: number[];
  peakRssMb: number[];
}

export interface ScaleResult {
  rssMbAt10Connections: number;
  rssMbAt1000Connections: number;
  streamRssGrowthMb: { caller: number; callee: number };
  fanout: { instances: number; load: LoadResult; instancesServed: number };
}

export interface Report {
  started: string;
  machine: { cpus: number; model: string; bun: string; node: string };
  settings: { rate: number; duration: number; warmup: number; bodyBytes: number; connections: number; quick: boolean };
  fixed: PathResult[];
  max: PathResult[];
  scale: ScaleResult | null;
}

const f = (n: number | null | undefined, d = 2) => (n === null || n === undefined ? "-" : n.toFixed(d));

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(w[i]!)).join(" | ") + " |";
  return [line(head), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}

export function printReport(r: Report): void {
  const base = r.fixed.find((x) => x.name === "direct")?.load;
  const add = (v: number | null, b: number | null | undefined) => (v === null || b === null || b === undefined ? "-" : f(v - b));
  const rows = r.fixed.map((x) => [
    x.name,
    f(x.load.rps, 0),
    f(x.load.p50),
    f(x.load.p90),
    f(x.load.p99),
    f(x.load.p999),
    x.name === "direct" ? "-" : add(x.load.p50, base?.p50),
    x.name === "direct" ? "-" : add(x.load.p99, base?.p99),
    x.vcpu.map((c) => f(c, 3)).join(" + "),
    x.peakRssMb.map((m) => f(m, 0)).join(" + "),
    String(x.load.errors + x.load.non2xx),
  ]);
  process.stdout.write(
    `\nFixed rate ${r.settings.rate} req/s, ${r.settings.bodyBytes} B POST bodies, ${r.settings.connections} connections, ${r.settings.duration}s (latency in ms)\n` +
      table(["path", "req/s", "p50", "p90", "p99", "p99.9", "+p50", "+p99", "vCPU per proxy", "peak RSS MB", "errors"], rows) +
      "\n",
  );
  const hap = r.max.find((x) => x.name.startsWith("haproxy"));
  process.stdout.write(
    `\nMax throughput, 50 connections\n` +
      table(
        ["path", "req/s", "vs haproxy"],
        r.max.map((x) => [x.name, f(x.load.rps, 0), hap ? f(x.load.rps / hap.load.rps) : "-"]),
      ) +
      "\n",
  );
  if (r.scale) {
    const s = r.scale;
    process.stdout.write(
      `\nScale: RSS one sidecar at 10 connections ${f(s.rssMbAt10Connections, 1)} MB, at 1000 connections ${f(s.rssMbAt1000Connections, 1)} MB; ` +
        `100 MB stream RSS growth caller ${f(s.streamRssGrowthMb.caller, 1)} MB, callee ${f(s.streamRssGrowthMb.callee, 1)} MB; ` +
        `${s.fanout.instances} instances of one app-id: p50 ${f(s.fanout.load.p50)} ms, p99 ${f(s.fanout.load.p99)} ms, ${s.fanout.instancesServed} instances served, ${s.fanout.load.errors + s.fanout.load.non2xx} errors\n`,
    );
  }
}
