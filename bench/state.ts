// `npm run bench:state`: what the sidecar adds to state calls. At a fixed rate, each tick saves a
// 1 KiB value and then reads it back, through the sidecar's state API (state.redis on a real
// redis-server) and the same calls made directly with the Redis client (the store's own Lua
// script and HGETALL); then how many saves a second one sidecar sustains on state.sqlite.
// Goals (issue 15): the sidecar adds at most 0.5 ms at p50; SQLite >= 5,000 saves a second.
//
//   bun bench/state.ts [--rate 1000] [--duration 20] [--quick]

import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freePort, Harness, ROOT, waitHttp } from "./harness.ts";
import { RedisStore } from "../state/redis-store.ts";
import { quantile as quantileOrNull } from "../cli/quantile.mjs";

/** The p-quantile (0-1) of an ascending array. */
const quantile = (a: readonly number[], p: number) => quantileOrNull(a, p * 100) ?? NaN;

const { values: v } = parseArgs({ options: { rate: { type: "string" }, duration: { type: "string" }, quick: { type: "boolean" } } });
const rate = Number(v.rate ?? 1000);
const duration = Number(v.duration ?? (v.quick ? 3 : 20));
const value = "x".repeat(1024);
const body = (key: string) => JSON.stringify([{ key, value }]);

/** Runs `op` `rate` times a second for `seconds`, evenly paced; returns each op's latencies (ms) per phase. */
async function paced(seconds: number, op: (i: number) => Promise<[number, number]>): Promise<{ save: number[]; get: number[]; errors: number }> {
  const save: number[] = [];
  const get: number[] = [];
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  for (let i = 0; performance.now() - start < seconds * 1000; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = op(i)
      .then(([s, g]) => void (save.push(s), get.push(g)))
      .catch(() => void errors++)
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  return { save: save.sort((a, b) => a - b), get: get.sort((a, b) => a - b), errors };
}

const h = new Harness();
await h.session(async () => {
  const redisPort = await freePort();
  h.spawn("redis", ["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], 0);
  const home = path.join(h.logDir, "home");
  const res = path.join(h.logDir, "resources");
  fs.mkdirSync(res, { recursive: true });
  fs.writeFileSync(
    path.join(res, "stores.yaml"),
    `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: statestore}\nspec:\n  type: state.redis\n  version: v1\n  metadata:\n  - {name: redisHost, value: "127.0.0.1:${redisPort}"}\n---\napiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: sq}\nspec:\n  type: state.sqlite\n  version: v1\n  metadata:\n  - {name: connectionString, value: "bench.db"}\n`,
  );
  await new Promise((r) => setTimeout(r, 300));
  const port = await freePort();
  await h.sidecar("bench-state", port, null, ["--resources-path", res], home);
  await waitHttp(`http://127.0.0.1:${port}/v1.0/healthz/outbound`, 204);
  const api = `http://127.0.0.1:${port}/v1.0/state`;
  const direct = await RedisStore.open({ host: `127.0.0.1:${redisPort}` });
  const bytes = new TextEncoder().encode(JSON.stringify(value));

  const viaSidecar = async (i: number): Promise<[number, number]> => {
    const key = `k${i % 1000}`;
    const t0 = performance.now();
    const s = await fetch(`${api}/statestore`, { method: "POST", body: body(key) });
    await s.arrayBuffer();
    const t1 = performance.now();
    const g = await fetch(`${api}/statestore/${key}`);
    await g.arrayBuffer();
    if (s.status !== 204 || g.status !== 200) throw new Error(`status ${s.status} / ${g.status}`);
    return [t1 - t0, performance.now() - t1];
  };
  const viaClient = async (i: number): Promise<[number, number]> => {
    const key = `bench-state||d${i % 1000}`;
    const t0 = performance.now();
    await direct.set({ key, value: bytes });
    const t1 = performance.now();
    if (!(await direct.get(key))) throw new Error("missing");
    return [t1 - t0, performance.now() - t1];
  };
  // Warm both, then alternate rounds so a slow minute on this VM lands on both alike.
  await paced(Math.min(3, duration), viaSidecar);
  await paced(Math.min(3, duration), viaClient);
  const rounds = v.quick ? 1 : 2;
  const side = { save: [] as number[], get: [] as number[], errors: 0 };
  const cli = { save: [] as number[], get: [] as number[], errors: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const [into, op] of [
      [side, viaSidecar],
      [cli, viaClient],
    ] as const) {
      const got = await paced(duration / rounds, op);
      into.save.push(...got.save);
      into.get.push(...got.get);
      into.errors += got.errors;
    }
  }
  for (const x of [side, cli]) {
    x.save.sort((a, b) => a - b);
    x.get.sort((a, b) => a - b);
  }
  await direct.close();

  // SQLite: saves flat out from 32 concurrent callers for a few seconds.
  const workers = 32;
  const until = performance.now() + (v.quick ? 2_000 : 5_000);
  let saves = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < until; i++) {
        const r = await fetch(`${api}/sq`, { method: "POST", body: body(`w${w}-${i % 500}`) });
        await r.arrayBuffer();
        if (r.status === 204) saves++;
        else failed++;
      }
    }),
  );
  const savesPerS = saves / ((performance.now() - t0) / 1000);

  const q = (a: number[], p: number) => quantile(a, p).toFixed(3);
  const added = quantile(side.save, 0.5) - quantile(cli.save, 0.5);
  const addedGet = quantile(side.get, 0.5) - quantile(cli.get, 0.5);
  const report = {
    date: new Date().toISOString(),
    rate,
    duration,
    sidecar: { save: { p50: quantile(side.save, 0.5), p99: quantile(side.save, 0.99) }, get: { p50: quantile(side.get, 0.5), p99: quantile(side.get, 0.99) }, errors: side.errors },
    client: { save: { p50: quantile(cli.save, 0.5), p99: quantile(cli.save, 0.99) }, get: { p50: quantile(cli.get, 0.5), p99: quantile(cli.get, 0.99) }, errors: cli.errors },
    sqlite: { savesPerS, failed },
  };
  const out = path.join(ROOT, "bench", "results", `state-${report.date.replace(/[:.]/g, "-")}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
  console.log(`| path (${rate} ticks/s, save then get of 1 KiB) | save p50 / p99 ms | get p50 / p99 ms | errors |\n|---|---|---|---|`);
  console.log(`| through the sidecar (state.redis) | ${q(side.save, 0.5)} / ${q(side.save, 0.99)} | ${q(side.get, 0.5)} / ${q(side.get, 0.99)} | ${side.errors} |`);
  console.log(`| the Redis client directly | ${q(cli.save, 0.5)} / ${q(cli.save, 0.99)} | ${q(cli.get, 0.5)} / ${q(cli.get, 0.99)} | ${cli.errors} |`);
  console.log(`\nthe sidecar adds ${added.toFixed(3)} ms to a save and ${addedGet.toFixed(3)} ms to a get at p50 (goal <= 0.5: ${added <= 0.5 && addedGet <= 0.5 ? "met" : "missed"})`);
  console.log(`state.sqlite: ${Math.round(savesPerS)} saves/s from ${workers} concurrent callers through one sidecar, ${failed} failed (goal >= 5,000: ${savesPerS >= 5000 ? "met" : "missed"})`);
  console.log(`results in ${path.relative(ROOT, out)}`);
});
