// `npm run bench`: what meshlet adds to every call, measured like Dapr's published overhead test
// (fixed rate, 1 KiB bodies) over direct, one-sidecar and two-sidecar paths, with haproxy and an
// http-proxy forwarder as peers in the same run; then max throughput and scale checks. Results go
// to bench/results/<time>.json and print as a table. Timing goals live here, never in tests.

import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freePort, Harness, load, ROOT, type Pace } from "./harness.ts";
import { clearTouched, cpuSeconds, memory, touchedMb, touchTracked } from "./proc.ts";
import { direct, haproxyPaths, httpProxyPaths, metricsSidecars, oneSidecar, bunFloorPaths, tracedSidecars, twoSidecars, type Path } from "./scenarios.ts";
import { printReport, type PathResult, type Report } from "./report.ts";
import { mergeRounds, type Round } from "./rounds.ts";
import { scaleChecks } from "./scale.ts";

const { values: v } = parseArgs({
  options: {
    quick: { type: "boolean" },
    rate: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    body: { type: "string" },
    connections: { type: "string" },
    pace: { type: "string" },
    rounds: { type: "string" },
    "no-peers": { type: "boolean" },
    "no-scale": { type: "boolean" },
    "no-max": { type: "boolean" },
    only: { type: "string" },
    out: { type: "string" },
  },
});
const quick = v.quick ?? false;
const rate = Number(v.rate ?? 1000);
const duration = Number(v.duration ?? (quick ? 2 : 30));
// --quick checks the harness, not the numbers: no warm-up.
const warmup = Number(v.warmup ?? (quick ? 0 : 5));
const bodyBytes = Number(v.body ?? 1024);
const connections = Number(v.connections ?? 20);
const maxDuration = quick ? 2 : 5;
// Fixed-rate paths are measured in alternating rounds that add up to --duration.
const fixedRounds = quick ? 1 : Number(v.rounds ?? 3);
const roundSeconds = Math.max(1, Math.round(duration / fixedRounds));
const maxRounds = quick ? 1 : 5;
// Even pacing (wrk2 / fortio -uniform style) is the headline; stock autocannon -R bursts are
// measured too in a full run, as ../shared/perf did, so both figures can be compared.
const paceArg = v.pace ?? (quick ? "even" : "both");
if (!["even", "burst", "both"].includes(paceArg)) throw new Error(`--pace must be even, burst or both, not ${paceArg}`);
// --only "meshlet: two sidecars|meshlet: two sidecars, tracing rate 1": only the fixed-rate paths of these names.
const only = v.only ? v.only.split("|").map((x) => x.trim()) : null;
const paces: Pace[] = paceArg === "both" ? ["even", "burst"] : [paceArg as Pace];

async function measure(p: Path, ratePerS: number | undefined, seconds: number, conns: number, pace?: Pace, warm = true): Promise<Round> {
  if (warm && warmup > 0) await load({ url: p.url, rate: ratePerS, pace, duration: warmup, connections: conns, bodyBytes });
  // The working set only where this kernel tracks it (proc.ts); else the report leaves it out.
  const tracking = await touchTracked();
  const cpu0 = p.pids.map(cpuSeconds);
  const t0 = performance.now();
  let peak = p.pids.map(() => 0);
  let peakAnon = p.pids.map(() => 0);
  const sample = () => {
    const m = p.pids.map(memory);
    peak = m.map((x, i) => Math.max(peak[i]!, x.rssMb));
    peakAnon = m.map((x, i) => Math.max(peakAnon[i]!, x.anonMb));
  };
  const sampler = setInterval(sample, 200);
  // Read at the end only if every process's referenced bits could be cleared now.
  const touching = tracking && p.pids.map(clearTouched).every(Boolean);
  const hs0 = p.handshakes ? await p.handshakes() : 0;
  const { latencies, ...r } = await load({ url: p.url, rate: ratePerS, pace, duration: seconds, connections: conns, bodyBytes, raw: true });
  clearInterval(sampler);
  const handshakes = p.handshakes ? (await p.handshakes()) - hs0 : undefined;
  // CPU over the seconds load flowed: the load generator's start-up (~0.5 s of node) is idle time.
  const secs = r.seconds ?? (performance.now() - t0) / 1000;
  const vcpu = p.pids.map((pid, i) => (cpuSeconds(pid) - cpu0[i]!) / secs);
  const touched = touching ? p.pids.map(touchedMb) : undefined;
  sample();
  return { name: p.name, load: r, vcpu, peakRssMb: peak, peakPrivateMb: peakAnon, ...(touched ? { touchedMb: touched } : {}), seconds: secs, latencies: latencies ?? [], ...(handshakes !== undefined ? { handshakes } : {}) };
}

async function main(): Promise<void> {
  const h = new Harness();
  const started = new Date();
  process.on("SIGINT", () => void h.stopAll().then(() => process.exit(130)));
  await h.session(async () => {
    const appPort = await freePort();
    const app = await h.app(appPort);
    const builders: Array<() => Promise<Path>> = [
      () => direct(h, appPort, app),
      () => oneSidecar(h, appPort),
      () => twoSidecars(h, appPort),
      () => twoSidecars(h, appPort, false),
      () => tracedSidecars(h, appPort, "1"),
      () => tracedSidecars(h, appPort, "0.0001"),
      () => metricsSidecars(h, appPort, "off"),
      () => metricsSidecars(h, appPort, "scraped"),
      ...(v["no-peers"] ? [] : [...(await haproxyPaths(h, appPort)), ...(await httpProxyPaths(h, appPort)), ...bunFloorPaths(h, appPort)]),
    ];
    const fixed: PathResult[] = [];
    for (const pace of paces) {
      // Every path runs at once (idle ones cost nothing); the rounds visit them in turn, each
      // round starting one path later, so a slow minute on this VM lands on all of them alike.
      const paths: Path[] = [];
      for (const build of builders) {
        const p = await build();
        if (only && !only.some((o) => p.name === o)) await p.stop();
        else paths.push(p);
      }
      const done: Round[][] = paths.map(() => []);
      for (let r = 0; r < fixedRounds; r++) {
        for (let k = 0; k < paths.length; k++) {
          const i = (k + r) % paths.length;
          const p = paths[i]!;
          process.stderr.write(`measuring ${p.name} at ${rate} req/s (${pace}), round ${r + 1}/${fixedRounds}, ${roundSeconds}s ...\n`);
          done[i]!.push(await measure(p, rate, roundSeconds, connections, pace, r === 0));
        }
      }
      fixed.push(...done.map(mergeRounds));
      for (const p of paths) await p.stop();
    }

    // Max throughput through one hop: meshlet against haproxy on the same path, in alternating
    // rounds (this VM's speed drifts by tens of percent within a minute); the median round counts.
    const contenders: Path[] = [];
    const maxPaths = v["no-max"] ? [] : [() => oneSidecar(h, appPort), ...(v["no-peers"] ? [] : (await haproxyPaths(h, appPort)).slice(0, 1))];
    for (const build of maxPaths) {
      const p = await build();
      if (warmup > 0) await load({ url: p.url, duration: warmup, connections: 50, bodyBytes });
      contenders.push(p);
    }
    const rounds: PathResult[][] = contenders.map(() => []);
    for (let r = 0; r < maxRounds; r++) {
      for (const [i, p] of contenders.entries()) {
        process.stderr.write(`max throughput: ${p.name}, 50 connections, ${maxDuration}s (round ${r + 1}/${maxRounds}) ...\n`);
        const { seconds: _s, latencies: _l, ...result } = await measure(p, undefined, maxDuration, 50, undefined, false);
        rounds[i]!.push(result);
      }
    }
    const max = rounds.map((rs) => ({ ...[...rs].sort((a, b) => a.load.rps - b.load.rps)[Math.floor(rs.length / 2)]!, rounds: rs.map((x) => x.load.rps) }));
    for (const p of contenders) await p.stop();

    const scale = v["no-scale"] ? null : await scaleChecks(h, appPort, { quick, rate, bodyBytes });
    const report: Report = {
      started: started.toISOString(),
      machine: { cpus: (await import("node:os")).cpus().length, model: (await import("node:os")).cpus()[0]?.model ?? "?", bun: Bun.version, node: nodeVersion() },
      settings: { rate, duration: roundSeconds * fixedRounds, rounds: fixedRounds, warmup, bodyBytes, connections, quick, paces },
      fixed,
      max,
      scale,
    };
    const out = v.out ?? path.join(ROOT, "bench", "results", `${started.toISOString().replace(/[:.]/g, "-")}${quick ? "-quick" : ""}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(report, null, 2));
    printReport(report);
    process.stdout.write(`\nresults: ${path.relative(process.cwd(), out)}\n`);
    const broken = fixed.filter((f) => f.load.ok === 0);
    if (broken.length) throw new Error(`no successful responses on: ${broken.map((b) => b.name).join(", ")} (logs in ${h.logDir})`);
  });
}

function nodeVersion(): string {
  const r = Bun.spawnSync(["node", "--version"]);
  return r.stdout.toString().trim();
}

await main();
