// `npm run soak`: instances dying under steady traffic. Three instances of one app-id behind a
// caller sidecar, a fixed rate (70 % GET, 30 % POST with unique ids), and every 5 s one instance
// killed (its sidecar by SIGKILL, its app by SIGKILL, or its sidecar by SIGTERM) and restarted 2 s
// later. Reports success per verb, failures by reason, POSTs delivered twice, POSTs that failed
// without ever reaching an app, and latency. Goals (issue 18): GET >= 99.9 %, no POST twice, no
// never-delivered POST failed. The caller has a retry policy for GETs, as users set one.
//
//   bun bench/soak.ts [--rate 300] [--duration 90] [--variants app-kill,sidecar-kill,sidecar-term] [--quick]

import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freePort, Harness, ROOT, waitHttp } from "./harness.ts";
import { quantile as percentile } from "../cli/quantile.mjs";

const VARIANTS = ["app-kill", "sidecar-kill", "sidecar-term"] as const;
type Variant = (typeof VARIANTS)[number];
const BUN = path.join(ROOT, "node_modules", ".bin", "bun");
const MESHLET = path.join(ROOT, "bin", "meshlet");

const { values: v } = parseArgs({
  options: {
    rate: { type: "string" },
    duration: { type: "string" },
    variants: { type: "string" },
    quick: { type: "boolean" },
  },
});
const rate = Number(v.rate ?? 300);
const duration = Number(v.duration ?? (v.quick ? 12 : 90));
const variants = (v.variants ?? VARIANTS.join(",")).split(",") as Variant[];
for (const x of variants) if (!VARIANTS.includes(x)) throw new Error(`--variants: ${x} is not one of ${VARIANTS.join(", ")}`);
const KILL_EVERY_MS = 5_000;
const DOWN_MS = 2_000;

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: soak}
spec:
  policies:
    retries:
      getsAgain: {policy: constant, duration: 20ms, maxRetries: 3}
  targets:
    apps:
      stock: {retry: getsAgain}
`;

interface Outcome {
  verb: "GET" | "POST";
  id: number;
  status: number;
  reason: string;
  /** The failure's message, endpoints left out. */
  message: string;
  ms: number;
}

interface Instance {
  appPort: number;
  httpPort: number;
  ids: string;
  app: ChildProcess | null;
  sidecar: ChildProcess | null;
}

/** The p-quantile (0-1) of an ascending array by the project's one percentile rule; 0 when empty. */
const quantile = (sorted: number[], q: number) => percentile(sorted, q * 100) ?? 0;

async function soak(h: Harness, variant: Variant) {
  const dir = path.join(h.logDir, variant);
  fs.mkdirSync(path.join(dir, "resources"), { recursive: true });
  fs.writeFileSync(path.join(dir, "resources", "resiliency.yaml"), RESILIENCY);
  const home = path.join(dir, "home");
  let n = 0;
  const startApp = (i: Instance) => (i.app = h.spawn(`${variant}-app-${i.appPort}-${n++}`, [BUN, path.join(ROOT, "bench", "soak-app.ts"), String(i.appPort), i.ids], null));
  const startSidecar = (i: Instance) =>
    (i.sidecar = h.spawn(`${variant}-sidecar-${i.httpPort}-${n++}`, [MESHLET, "run", "-a", "stock", "-p", String(i.appPort), "-H", String(i.httpPort), "--log-level", "warn"], null, { MESHLET_HOME: home }));
  const instances: Instance[] = [];
  for (let k = 0; k < 3; k++) {
    const i: Instance = { appPort: await freePort(), httpPort: await freePort(), ids: path.join(dir, `ids-${k}.txt`), app: null, sidecar: null };
    startApp(i);
    await waitHttp(`http://127.0.0.1:${i.appPort}/`, 200);
    startSidecar(i);
    await waitHttp(`http://127.0.0.1:${i.httpPort}/v1.0/healthz`, 204);
    instances.push(i);
  }
  const callerPort = await freePort();
  h.spawn(`${variant}-caller`, [MESHLET, "run", "-a", "soaker", "-H", String(callerPort), "--resources-path", path.join(dir, "resources"), "--log-level", "warn"], null, { MESHLET_HOME: home });
  await waitHttp(`http://127.0.0.1:${callerPort}/v1.0/healthz/outbound`, 204);
  const base = `http://127.0.0.1:${callerPort}/v1.0/invoke/stock/method`;
  for (let w = 0; w < 50; w++) await (await fetch(`${base}/warm`)).arrayBuffer();

  // Kills: every 5 s the next instance goes down, and comes back 2 s later.
  let victim = 0;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const killer = setInterval(() => {
    const i = instances[victim++ % instances.length]!;
    if (variant === "app-kill") {
      i.app?.kill("SIGKILL");
      timers.push(setTimeout(() => startApp(i), DOWN_MS));
    } else {
      try {
        process.kill(-i.sidecar!.pid!, variant === "sidecar-kill" ? "SIGKILL" : "SIGTERM");
      } catch {
        // already gone
      }
      timers.push(setTimeout(() => startSidecar(i), DOWN_MS));
    }
  }, KILL_EVERY_MS);

  // Fixed-rate traffic: every 10 ms, this tick's share of the rate, whatever is still in flight.
  const outcomes: Outcome[] = [];
  const inflight = new Set<Promise<void>>();
  let nextId = 0;
  let owed = 0;
  const send = (verb: "GET" | "POST") => {
    const id = nextId++;
    const t0 = performance.now();
    const p = fetch(verb === "GET" ? `${base}/item` : `${base}/order?id=${id}`, { method: verb, body: verb === "POST" ? `{"id":${id}}` : undefined, signal: AbortSignal.timeout(30_000) })
      .then(async (r) => {
        const text = await r.text();
        const reason = r.status === 200 ? "" : (r.headers.get("meshlet-reason") ?? `status ${r.status}`);
        // What the sidecar said, endpoints left out, so that failures group (a FIN and a reset differ).
        const message = r.status === 200 ? "" : String(((): unknown => { try { return (JSON.parse(text) as { message?: string }).message; } catch { return text; } })()).replace(/127\.0\.0\.1:\d+/g, "<endpoint>");
        outcomes.push({ verb, id, status: r.status, reason, message, ms: performance.now() - t0 });
      })
      .catch((e: Error) => void outcomes.push({ verb, id, status: 0, reason: `client error: ${e.name}`, message: e.message, ms: performance.now() - t0 }))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const pacer = setInterval(() => {
      if (performance.now() - started >= duration * 1000) {
        clearInterval(pacer);
        return resolve();
      }
      owed += rate / 100;
      for (; owed >= 1; owed--) send(Math.random() < 0.3 ? "POST" : "GET");
    }, 10);
  });
  clearInterval(killer);
  await Promise.all(inflight);
  for (const t of timers) clearTimeout(t);

  // Deliveries: every POST id each app wrote, over all its lives.
  const delivered = new Map<number, number>();
  for (const i of instances) {
    for (const line of fs.existsSync(i.ids) ? fs.readFileSync(i.ids, "utf8").split("\n") : []) {
      if (line) delivered.set(Number(line), (delivered.get(Number(line)) ?? 0) + 1);
    }
  }
  const by = (verb: string) => outcomes.filter((o) => o.verb === verb);
  const ok = (os: Outcome[]) => os.filter((o) => o.status === 200).length;
  const reasons: Record<string, number> = {};
  for (const o of outcomes) if (o.status !== 200) reasons[`${o.verb} ${o.reason}`] = (reasons[`${o.verb} ${o.reason}`] ?? 0) + 1;
  const posts = by("POST");
  const lat = outcomes.filter((o) => o.status === 200).map((o) => o.ms).sort((a, b) => a - b);
  return {
    variant,
    requests: outcomes.length,
    kills: Math.floor((duration * 1000) / KILL_EVERY_MS),
    get: { sent: by("GET").length, ok: ok(by("GET")), successPct: (100 * ok(by("GET"))) / Math.max(1, by("GET").length) },
    post: { sent: posts.length, ok: ok(posts), successPct: (100 * ok(posts)) / Math.max(1, posts.length) },
    duplicatedPosts: [...delivered.values()].filter((c) => c > 1).length,
    failedNeverDelivered: posts.filter((o) => o.status !== 200 && !delivered.has(o.id)).length,
    failedButDelivered: posts.filter((o) => o.status !== 200 && delivered.has(o.id)).length,
    reasons,
    // The POSTs that failed and that no app wrote down, by what the sidecar said.
    failedNeverDeliveredMessages: tally(posts.filter((o) => o.status !== 200 && !delivered.has(o.id)).map((o) => o.message)),
    latencyMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), p999: quantile(lat, 0.999) },
  };
}

function tally(xs: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const x of xs) t[x] = (t[x] ?? 0) + 1;
  return t;
}

const h = new Harness();
process.on("SIGINT", () => void h.stopAll().then(() => process.exit(130)));
const results = await h.session(async () => {
  const soaked = [];
  for (const variant of variants) {
    process.stderr.write(`soak: ${variant}, ${rate} req/s for ${duration} s, one instance of three down every 5 s for 2 s ...\n`);
    soaked.push(await soak(h, variant));
    await h.stopAll();
  }
  return soaked;
});
const out = path.join(ROOT, "bench", "results", `soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rate, duration, results }, null, 2) + "\n");
console.log("| variant | requests | GET ok | POST ok | POSTs twice | failed, never delivered | failed after delivery | p50 / p99 / p99.9 ms | failures by reason |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  const reasons = Object.entries(r.reasons).map(([k, n]) => `${k} (${n})`).join(", ") || "-";
  console.log(
    `| ${r.variant} | ${r.requests} | ${r.get.successPct.toFixed(2)} % | ${r.post.successPct.toFixed(2)} % | ${r.duplicatedPosts} | ${r.failedNeverDelivered} | ${r.failedButDelivered} | ${r.latencyMs.p50.toFixed(2)} / ${r.latencyMs.p99.toFixed(2)} / ${r.latencyMs.p999.toFixed(2)} | ${reasons} |`,
  );
}
for (const r of results) {
  for (const [m, n] of Object.entries(r.failedNeverDeliveredMessages)) console.log(`${r.variant}: ${n} POST(s) failed, never written down by an app: ${m}`);
}
const met = results.every((r) => r.get.successPct >= 99.9 && r.duplicatedPosts === 0 && r.failedNeverDelivered === 0);
console.log(`\ngoals (GET >= 99.9 %, no POST twice, no never-delivered POST failed): ${met ? "met" : "missed"}; results in ${path.relative(ROOT, out)}; logs in ${h.logDir}`);
process.exit(met ? 0 : 1);
