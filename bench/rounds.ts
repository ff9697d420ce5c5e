// Merges the rounds of one path into one result: this VM's speed drifts by tens of percent within
// minutes, so every path is measured in short rounds that alternate with the other paths', and
// the figures come from all its rounds together (latencies pooled, CPU over the summed time).

import type { LoadResult } from "./harness.ts";
import type { PathResult } from "./report.ts";
import { quantile } from "../cli/quantile.mjs";

/** One round of one path: its result plus what merging needs and the report does not keep. */
export interface Round extends PathResult {
  /** Seconds the load flowed (the load generator's start-up excluded). */
  seconds: number;
  /** Every successful response time of the round, ms. */
  latencies: number[];
}

export function mergeRounds(rounds: Round[]): PathResult {
  if (rounds.length === 0) throw new Error("no rounds to merge");
  const first = rounds[0]!;
  const seconds = rounds.reduce((s, r) => s + r.seconds, 0);
  const lat = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const sum = (f: (l: LoadResult) => number) => rounds.reduce((s, r) => s + f(r.load), 0);
  const statuses: Record<string, number> = {};
  for (const r of rounds) for (const [k, n] of Object.entries(r.load.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  const lags = rounds.map((r) => r.load.lagP99).filter((x): x is number => x !== null);
  const perProcess = (f: (r: Round, i: number) => number, combine: (xs: number[]) => number) => first.vcpu.map((_, i) => combine(rounds.map((r) => f(r, i))));
  const ok = sum((l) => l.ok);
  return {
    name: first.name,
    load: {
      requests: sum((l) => l.requests),
      ok,
      rps: ok / seconds,
      errors: sum((l) => l.errors),
      non2xx: sum((l) => l.non2xx),
      statuses,
      p50: quantile(lat, 50),
      p90: quantile(lat, 90),
      p99: quantile(lat, 99),
      p999: quantile(lat, 99.9),
      pace: first.load.pace,
      lagP99: lags.length ? Math.max(...lags) : null,
    },
    // CPU seconds over the seconds load flowed, across all rounds; memory (and what a round touched) is the peak of any round.
    vcpu: perProcess((r, i) => r.vcpu[i]! * r.seconds, (xs) => xs.reduce((a, b) => a + b, 0) / seconds),
    peakRssMb: perProcess((r, i) => r.peakRssMb[i]!, (xs) => Math.max(...xs)),
    peakPrivateMb: perProcess((r, i) => r.peakPrivateMb?.[i] ?? 0, (xs) => Math.max(...xs)),
    ...(rounds.every((r) => r.touchedMb) ? { touchedMb: perProcess((r, i) => r.touchedMb![i]!, (xs) => Math.max(...xs)) } : {}),
    roundP99: rounds.map((r) => r.load.p99 ?? 0),
    roundVcpu: rounds.map((r) => r.vcpu),
    ...(first.handshakes !== undefined ? { handshakes: rounds.reduce((n, r) => n + (r.handshakes ?? 0), 0) } : {}),
  };
}
