// Turns benchmark results into the table people read: latency percentiles per path, the latency
// added over direct, CPU in vCPU and peak RSS per proxy process, and throughput ratios.

import type { LoadResult, Pace } from "./harness.ts";
import {
  BUN_FORWARDER_TWO_PROCESSES,
  HAPROXY_TWO_PROCESSES,
  HAPROXY_TWO_PROCESSES_TLS,
  TCP_RELAY_TWO_PROCESSES,
  TWO_SIDECARS,
  TWO_SIDECARS_PLAIN,
  TWO_SIDECARS_TRACED,
  TWO_SIDECARS_TRACED_DEFAULT,
  TWO_SIDECARS_NO_METRICS,
  TWO_SIDECARS_SCRAPED,
} from "./scenarios.ts";

export interface PathResult {
  name: string;
  load: LoadResult;
  /** Per charged process, in the order the path lists them. */
  vcpu: number[];
  peakRssMb: number[];
  /** Peak RssAnon per process: memory of its own, not the shared runtime binary. */
  peakPrivateMb?: number[];
  /**
   * MiB of its pages each process referenced during a round (the largest round): its working set
   * under this load. RSS also counts pages touched once at start-up and never again.
   */
  touchedMb?: number[];
  /** Max-throughput runs: req/s of every round (the result is the median round). */
  rounds?: number[];
  /** Fixed-rate runs: p99 of each round, to show how much this VM drifted during the run. */
  roundP99?: number[];
  /** Fixed-rate runs: vCPU of each charged process in each round (paired with other paths' rounds by index). */
  roundVcpu?: number[][];
  /** mTLS paths: TLS handshakes the caller made while measured (reuse = 1 - handshakes / requests). */
  handshakes?: number;
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
  settings: { rate: number; duration: number; rounds?: number; warmup: number; bodyBytes: number; connections: number; quick: boolean; paces: Pace[] };
  fixed: PathResult[];
  max: PathResult[];
  scale: ScaleResult | null;
}

/**
 * meshlet's max rate as a share of haproxy's: the median of the ratios of rounds run back to back
 * (round i of each), so drift between rounds cancels; the ratio of the two medians beside it.
 */
export function maxRatio(one: PathResult, hap: PathResult): { paired: number; ofMedians: number } {
  const a = one.rounds ?? [one.load.rps];
  const b = hap.rounds ?? [hap.load.rps];
  const ratios = a.slice(0, b.length).map((x, i) => x / b[i]!).sort((x, y) => x - y);
  const mid = ratios.length / 2;
  const paired = ratios.length % 2 ? ratios[Math.floor(mid)]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  return { paired, ofMedians: one.load.rps / hap.load.rps };
}

const f = (n: number | null | undefined, d = 2) => (n === null || n === undefined ? "-" : n.toFixed(d));
/** A change with its sign ("+0.018", "-2"), without the unit. */
const signed = (x: number, d: number) => `${x >= 0 ? "+" : ""}${f(x, d)}`;
/** A ratio's change as signed percent digits ("+7", "-2"), without the unit. */
const signedPct = (x: number, d = 0) => signed(x * 100, d);
const signedMs = (x: number) => `${signed(x, 3)} ms`;
/** Ratios' changes as signed percents, one per charged process ("+13 % + +14 %"). */
const pcts = (xs: readonly number[]) => xs.map((x) => `${signedPct(x)} %`).join(" + ");
/** One figure per charged process, in the path's order ("0.081 + 0.076"). */
const perProcess = (xs: readonly number[], d: number) => xs.map((x) => f(x, d)).join(" + ");
/** Each charged process's CPU on path `a` over the same process on path `b`, minus 1. */
const cpuChange = (a: PathResult, b: PathResult) => a.vcpu.map((c, i) => c / b.vcpu[i]! - 1);

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(w[i]!)).join(" | ") + " |";
  return [line(head), "|" + w.map((x) => "-".repeat(x + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}

const PACE_NOTE: Record<Pace, string> = {
  even: "evenly paced arrivals, one every 1/rate s (wrk2 / fortio -uniform)",
  burst: "stock autocannon -R: each connection's share sent back to back at the top of each second",
};

/** One goal: whether meshlet met it, meshlet's figure, and the same figure for the two-process peers. */
export interface Target {
  goal: string;
  met: boolean | null;
  measured: string;
  /** The same measure for haproxy, a bare Bun relay and a bare Bun forwarder as two processes: where the floor is. */
  peers: string;
}

/** The issue's goals for meshlet, checked against one run (printed, never asserted in tests). */
export function targets(r: Report): Target[] {
  const at = (pace: Pace, name: string) => r.fixed.find((x) => x.load.pace === pace && x.name === name);
  const out: Target[] = [];
  const pace = r.settings.paces[0]!;
  const d = at(pace, "direct")?.load;
  const two = at(pace, TWO_SIDECARS);
  const peers = [at(pace, HAPROXY_TWO_PROCESSES), at(pace, TCP_RELAY_TWO_PROCESSES), at(pace, BUN_FORWARDER_TWO_PROCESSES)].filter((x) => x !== undefined);
  const peerFigures = (fig: (x: PathResult) => string) => peers.map((x) => `${x.name.split(":")[0]} ${fig(x)}`).join("; ") || "-";
  if (d && two && d.p50 !== null && two.load.p50 !== null && d.p99 !== null && two.load.p99 !== null) {
    const added = (x: PathResult) => [x.load.p50! - d.p50!, x.load.p99! - d.p99!] as const;
    const [a50, a99] = added(two);
    const addedText = (x: PathResult) => `+${f(added(x)[0])} / +${f(added(x)[1])} ms`;
    out.push({ goal: `two sidecars add <= 0.6 ms p50 / 1.5 ms p99 (${pace})`, met: a50 <= 0.6 && a99 <= 1.5, measured: addedText(two), peers: peerFigures(addedText) });
    const cpu = (x: PathResult) => perProcess(x.vcpu, 3);
    out.push({ goal: `each sidecar <= 0.10 vCPU (${pace})`, met: two.vcpu.every((c) => c <= 0.1), measured: cpu(two), peers: peerFigures(cpu) });
    const mem = (x: PathResult) => `${perProcess(x.peakRssMb, 0)} MB`;
    out.push({ goal: `each sidecar <= 60 MB RSS (${pace})`, met: two.peakRssMb.every((m) => m <= 60), measured: rssText(two), peers: peerFigures(mem) });
  }
  out.push(...mtlsTargets(r, pace));
  out.push(...tracingTargets(r, pace));
  out.push(...metricsCost(r, pace));
  const one = r.max.find((x) => x.name.startsWith("meshlet"));
  const hap = r.max.find((x) => x.name.startsWith("haproxy"));
  if (one && hap) {
    const m = maxRatio(one, hap);
    out.push({ goal: "one sidecar max rate >= 0.55 of haproxy", met: m.paired >= 0.55, measured: `${f(m.paired)} (paired rounds; ratio of medians ${f(m.ofMedians)})`, peers: "-" });
  }
  if (r.scale) {
    const g = r.scale.rssMbAt1000Connections / r.scale.rssMbAt10Connections - 1;
    out.push({ goal: "RSS at 1,000 connections within 10 % of 10", met: g <= 0.1, measured: `${signedPct(g, 1)} %`, peers: "-" });
  }
  return out;
}

/** What mTLS costs over plain meshlet in the same run, beside what it costs haproxy. */
export function mtlsTargets(r: Report, pace: Pace): Target[] {
  const at = (name: string) => r.fixed.find((x) => x.load.pace === pace && x.name === name);
  const [tls, plain, hapTls, hap] = [at(TWO_SIDECARS), at(TWO_SIDECARS_PLAIN), at(HAPROXY_TWO_PROCESSES_TLS), at(HAPROXY_TWO_PROCESSES)];
  if (!tls || !plain || tls.load.p50 === null || plain.load.p50 === null) return [];
  const out: Target[] = [];
  const added = tls.load.p50 - plain.load.p50;
  const hapAdded = hapTls && hap && hapTls.load.p50 !== null && hap.load.p50 !== null ? hapTls.load.p50 - hap.load.p50 : null;
  const hapText = hapAdded === null ? "-" : `haproxy ${signedMs(hapAdded)}`;
  out.push({ goal: `mTLS adds <= 0.1 ms p50 over plain meshlet (${pace})`, met: added <= 0.1, measured: signedMs(added), peers: hapText });
  const cpuUp = cpuChange(tls, plain);
  const hapCpu = hapTls && hap ? cpuChange(hapTls, hap).map((x) => `${f(x * 100, 0)} %`).join(" + ") : "-";
  out.push({ goal: `mTLS adds <= 10 % CPU per sidecar (${pace})`, met: cpuUp.every((x) => x <= 0.1), measured: pcts(cpuUp), peers: `haproxy ${hapCpu}` });
  if (hapAdded !== null) {
    // A floor of 0.02 ms: below it both are within this VM's timer noise.
    out.push({ goal: `mTLS's added p50 <= 1.25x haproxy's (${pace})`, met: added <= 1.25 * Math.max(hapAdded, 0.02), measured: `${f(added / Math.max(hapAdded, 0.02), 2)}x`, peers: hapText });
  }
  if (tls.handshakes !== undefined) {
    // Per pooled connection: at most one per client connection of the load (the pool's size) in
    // each round (a pool idle between rounds may be closed and reopened).
    const reuse = 1 - tls.handshakes / Math.max(1, tls.load.requests);
    out.push({
      goal: "handshakes per pooled connection, not per request",
      met: tls.handshakes <= r.settings.connections * (r.settings.rounds ?? 1),
      measured: `${tls.handshakes} handshakes for ${tls.load.requests} requests on ${r.settings.connections} connections (reuse ${f(reuse * 100, 2)} %)`,
      peers: "-",
    });
  }
  return out;
}

/**
 * How much one path's CPU over another's moved from round to round: per process, the lowest and
 * highest of the paired rounds' ratios (round k of each, run back to back). The figure that
 * decides a goal is over all rounds; this says how far one round, or one short run, can stray.
 */
export function pairedSpread(x: PathResult, base: PathResult): string {
  const a = x.roundVcpu;
  const b = base.roundVcpu;
  if (!a || !b || Math.min(a.length, b.length) < 2) return "";
  const n = Math.min(a.length, b.length);
  const perProcess = x.vcpu.map((_, i) => {
    const r = Array.from({ length: n }, (_, k) => a[k]![i]! / b[k]![i]! - 1).sort((p, q) => p - q);
    return `${signedPct(r[0]!)}..${signedPct(r[n - 1]!)} %`;
  });
  return `paired rounds ${perProcess.join(" / ")}`;
}

/** What tracing costs over the same two sidecars without it, in the same run. */
export function tracingTargets(r: Report, pace: Pace): Target[] {
  const at = (name: string) => r.fixed.find((x) => x.load.pace === pace && x.name === name);
  const [plain, all, dflt] = [at(TWO_SIDECARS), at(TWO_SIDECARS_TRACED), at(TWO_SIDECARS_TRACED_DEFAULT)];
  if (!plain || plain.load.p50 === null) return [];
  const out: Target[] = [];
  const cost = (x: PathResult) => ({ p50: x.load.p50! - plain.load.p50!, cpu: cpuChange(x, plain) });
  if (all && all.load.p50 !== null) {
    const c = cost(all);
    const spread = pairedSpread(all, plain);
    out.push({ goal: `tracing at rate 1 adds <= 0.1 ms p50 and <= 15 % CPU per sidecar (${pace})`, met: c.p50 <= 0.1 && c.cpu.every((x) => x <= 0.15), measured: `${signedMs(c.p50)}, ${pcts(c.cpu)}${spread ? ` (${spread})` : ""}`, peers: "-" });
    out.push({ goal: `tracing at rate 1: each sidecar <= 60 MB RSS (${pace})`, met: all.peakRssMb.every((m) => m <= 60), measured: rssText(all, plain), peers: "-" });
  }
  if (dflt && dflt.load.p50 !== null) {
    const c = cost(dflt);
    out.push({ goal: `tracing at 0.0001 within noise of none (${pace})`, met: null, measured: `${signedMs(c.p50)}, ${pcts(c.cpu)}`, peers: "-" });
  }
  return out;
}

/** The pages each process used in a round, where they were measured (and the reading is not all zero). */
const usedInRound = (x: PathResult): number[] | null => (x.touchedMb?.some((m) => m > 0) ? x.touchedMb : null);

/** Peak RSS per process, with the pages it used in a round beside it where measured. */
function rssText(x: PathResult, over?: PathResult): string {
  const more = over ? ` (${x.peakRssMb.map((m, i) => signed(m - over.peakRssMb[i]!, 0)).join(" / ")} MB over none)` : "";
  const touched = usedInRound(x);
  const used = touched ? `; used in a round ${perProcess(touched, 0)} MB` : "";
  return `${perProcess(x.peakRssMb, 0)} MB${more}${used}`;
}

/** What Dapr's metrics cost in the same run: recording them (vs off), and a scrape every second. */
export function metricsCost(r: Report, pace: Pace): Target[] {
  const at = (name: string) => r.fixed.find((x) => x.load.pace === pace && x.name === name && x.load.p50 !== null);
  const [on, off, scraped] = [at(TWO_SIDECARS), at(TWO_SIDECARS_NO_METRICS), at(TWO_SIDECARS_SCRAPED)];
  const out: Target[] = [];
  if (on && off) out.push({ goal: `recording Dapr's metrics, over metrics off (${pace})`, met: null, measured: `${signedMs(on.load.p50! - off.load.p50!)} p50, ${pcts(cpuChange(on, off))} CPU`, peers: "-" });
  if (on && scraped) out.push({ goal: `scraping /metrics every 1 s, over not scraping (${pace})`, met: null, measured: `${signedMs(scraped.load.p50! - on.load.p50!)} p50, ${pcts(cpuChange(scraped, on))} CPU`, peers: "-" });
  return out;
}

export function printReport(r: Report): void {
  const add = (v: number | null, b: number | null | undefined) => (v === null || b === null || b === undefined ? "-" : f(v - b));
  for (const pace of r.settings.paces) {
    const fixed = r.fixed.filter((x) => x.load.pace === pace);
    const base = fixed.find((x) => x.name === "direct")?.load;
    const rows = fixed.map((x) => [
      x.name,
      f(x.load.rps, 0),
      f(x.load.p50),
      f(x.load.p90),
      f(x.load.p99),
      f(x.load.p999),
      x.name === "direct" ? "-" : add(x.load.p50, base?.p50),
      x.name === "direct" ? "-" : add(x.load.p99, base?.p99),
      perProcess(x.vcpu, 3),
      perProcess(x.peakRssMb, 0),
      perProcess(x.peakPrivateMb ?? [], 0),
      perProcess(usedInRound(x) ?? [], 0) || "-",
      String(x.load.errors + x.load.non2xx),
    ]);
    process.stdout.write(
      `\nFixed rate ${r.settings.rate} req/s, ${PACE_NOTE[pace]}; ${r.settings.bodyBytes} B POST bodies, ${r.settings.connections} connections, ${r.settings.duration}s per path${(r.settings.rounds ?? 1) > 1 ? ` in ${r.settings.rounds} alternating rounds` : ""} (latency in ms)\n` +
        table(["path", "req/s", "p50", "p90", "p99", "p99.9", "+p50", "+p99", "vCPU per proxy", "peak RSS MB", "of it private", "used in a round MB", "errors"], rows) +
        "\n" +
        (fixed.some(usedInRound) ? "" : "(used in a round: not measured; this kernel does not mark pages referenced again after clear_refs)\n"),
    );
  }
  const hap = r.max.find((x) => x.name.startsWith("haproxy"));
  process.stdout.write(
    `\nMax throughput, 50 connections, alternating rounds\n` +
      table(
        ["path", "req/s (median round)", "rounds", "vs haproxy (median of paired rounds)"],
        r.max.map((x) => [x.name, f(x.load.rps, 0), (x.rounds ?? []).map((n) => f(n, 0)).join(" "), hap ? f(maxRatio(x, hap).paired) : "-"]),
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
  const t = targets(r);
  if (t.length) {
    process.stdout.write(
      `\nTargets (the peers column: the same measure for the two-process peers, where the floor lies)\n` +
        table(["goal", "met", "measured", "peers"], t.map((x) => [x.goal, x.met === null ? "-" : x.met ? "yes" : "no", x.measured, x.peers])) +
        "\n",
    );
  }
}
