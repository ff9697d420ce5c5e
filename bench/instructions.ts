// Instructions per request of one proxy process, counted by valgrind's callgrind while
// sequential keep-alive POSTs (1 KiB) pass through it: a figure this VM's noise does not move
// (repeatable within ~2-3 %), for before/after comparisons of hot-path changes. It does not
// measure time, kernel work, cache misses or concurrency; `npm run bench` does that.
//
//   bun bench/instructions.ts [--requests 4000] [--warmup 1000] [--paths caller,callee,caller-plain,callee-plain,
//     caller-traced,callee-traced,caller-traced-default,caller-traced-otlp,caller-traced-otlp-grpc,one,forwarder]
//     [--sidecar-args="--max-memory 1Gi"]   (added to every sidecar's `meshlet run`)

import { spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freePort, Harness, hasCommand, ROOT, waitHttp } from "./harness.ts";

const BUN_EXE = path.join(ROOT, "node_modules", "bun", "bin", "bun.exe");
const PATHS = ["caller", "callee", "caller-plain", "callee-plain", "caller-traced", "callee-traced", "caller-traced-default", "caller-traced-otlp", "caller-traced-otlp-grpc", "one", "forwarder"] as const;
type PathName = (typeof PATHS)[number];
const WHAT: Record<PathName, string> = {
  caller: "caller sidecar of two, mTLS between them (client -> caller -> callee -> app)",
  callee: "callee sidecar of two, mTLS",
  "caller-plain": "caller sidecar of two, mTLS off (peer secret)",
  "callee-plain": "callee sidecar of two, mTLS off",
  "caller-traced": "caller sidecar of two, mTLS, tracing every call (rate 1) to a Zipkin receiver",
  "callee-traced": "callee sidecar of two, mTLS, tracing every call (rate 1) to a Zipkin receiver",
  "caller-traced-default": "caller sidecar of two, mTLS, tracing at Dapr's default rate (0.0001) to a Zipkin receiver",
  "caller-traced-otlp": "caller sidecar of two, mTLS, tracing every call (rate 1) to an OTLP/HTTP receiver",
  "caller-traced-otlp-grpc": "caller sidecar of two, mTLS, tracing every call (rate 1) to an OTLP/gRPC receiver",
  one: "one sidecar (client -> sidecar -> its own app)",
  forwarder: "bun http forwarder peer (meshlet's listener and dialer, no features)",
};

const { values: opts } = parseArgs({
  options: {
    requests: { type: "string", default: "4000" },
    warmup: { type: "string", default: "1000" },
    "sidecar-args": { type: "string", default: "" },
    paths: { type: "string", default: PATHS.join(",") },
  },
});
const requests = Number(opts.requests);
const warmup = Number(opts.warmup);
const chosen = opts.paths.split(",").filter((p): p is PathName => (PATHS as readonly string[]).includes(p));

if (!hasCommand("valgrind") || !hasCommand("callgrind_control")) {
  console.error("bench/instructions.ts needs valgrind (apt-get install valgrind)");
  process.exit(2);
}

const h = new Harness();
const body = new Uint8Array(1024).fill(120);

/** Sequential POSTs on one keep-alive connection; returns how many answered 200. */
async function send(url: string, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/octet-stream" } });
    await res.arrayBuffer();
    if (res.status === 200) ok++;
  }
  return ok;
}

/** Starts `args` on Bun under callgrind (collection on; zeroed before the measured batch). */
function underCallgrind(name: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; outPrefix: string } {
  const outPrefix = path.join(h.logDir, `callgrind-${name}`);
  // Only the JIT setting of a sidecar's runtime settings (bin/meshlet): the figures recorded in
  // the README were taken without the allocator's, and later runs must compare with them.
  const valgrind = ["valgrind", "--tool=callgrind", "--smc-check=all-non-file", `--callgrind-out-file=${outPrefix}.%p`];
  return { child: h.spawn(name, [...valgrind, BUN_EXE, ...args], null, { BUN_JSC_useFTLJIT: "0", ...env }), outPrefix };
}

/** Total instructions in the dump taken on request (`<prefix>.<pid>.1`; the one at exit has no suffix). */
async function totalInstructions(outPrefix: string, pid: number): Promise<number> {
  const file = `${outPrefix}.${pid}.1`;
  for (let i = 0; i < 100; i++) {
    const m = fs.existsSync(file) ? /^(?:summary|totals):\s+(\d+)/m.exec(fs.readFileSync(file, "utf8")) : null;
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no callgrind totals in ${file}`);
}

async function measure(name: PathName): Promise<{ path: PathName; what: string; requests: number; instructionsPerRequest: number }> {
  const appPort = await freePort();
  const app = h.spawn(`app-${name}`, [BUN_EXE, path.join(ROOT, "bench", "app.ts"), String(appPort)], null);
  const home = path.join(h.logDir, `home-${name}`);
  const cli = path.join(ROOT, "cli", "main.ts");
  // The -plain paths run both sidecars with a Configuration that turns mTLS off; -traced ones
  // with one that samples every call and exports to a Zipkin receiver on loopback.
  let plain: string[] = [];
  let sinkUrl: string | null = null;
  const others: ChildProcess[] = [app];
  if (name.endsWith("-plain")) plain = ["-c", path.join(ROOT, "bench", "plain-config.yaml")];
  if (name.includes("-traced")) {
    const rate = name.endsWith("-default") ? "0.0001" : "1";
    const sinkPort = await freePort();
    const exporter = name.endsWith("-otlp-grpc") ? "otlp-grpc" : name.endsWith("-otlp") ? "otlp" : "zipkin";
    if (exporter === "otlp-grpc") {
      const countPort = await freePort();
      others.push(await h.otlpGrpcSink(`otlp-grpc-${name}`, sinkPort, countPort));
      sinkUrl = `http://127.0.0.1:${countPort}/`;
    } else {
      others.push(await h.zipkinSink(`zipkin-${name}`, sinkPort));
      if (rate === "1") sinkUrl = `http://127.0.0.1:${sinkPort}/`;
    }
    plain = ["-c", h.tracingConfig(`tracing-${name}.yaml`, rate, sinkPort, exporter)];
  }
  const extra = opts["sidecar-args"].split(" ").filter(Boolean);
  const run = (id: string, port: number, withApp: boolean) => [cli, "run", "-a", id, "-H", String(port), "--log-level", "warn", ...plain, ...extra, ...(withApp ? ["-p", String(appPort)] : [])];
  const port = await freePort();
  let measured: { child: ChildProcess; outPrefix: string };
  if (name === "forwarder") {
    measured = underCallgrind(name, [path.join(ROOT, "bench", "peers", "bun-forwarder.ts"), String(port), String(appPort)], {});
  } else if (name === "one") {
    measured = underCallgrind(name, run("app", port, true), { MESHLET_HOME: home });
  } else if (name.startsWith("caller")) {
    others.push(h.spawn(`callee-${name}`, [BUN_EXE, ...run("app", await freePort(), true)], null, { MESHLET_HOME: home }));
    measured = underCallgrind(name, run("client", port, false), { MESHLET_HOME: home });
  } else {
    measured = underCallgrind(name, run("app", await freePort(), true), { MESHLET_HOME: home });
    others.push(h.spawn(`caller-${name}`, [BUN_EXE, ...run("client", port, false)], null, { MESHLET_HOME: home }));
  }
  const url = `http://127.0.0.1:${port}/v1.0/invoke/app/method/x`;
  try {
    // valgrind starts Bun in 10-30 s.
    await waitHttp(url, 200, 120_000, measured.child).catch((e: Error) => {
      throw new Error(`${name}: ${e.message}; logs in ${h.logDir}`);
    });
    await send(url, warmup);
    const pid = measured.child.pid!;
    spawnSync("callgrind_control", ["-z", String(pid)]);
    const ok = await send(url, requests);
    if (ok !== requests) throw new Error(`${name}: ${requests - ok} of ${requests} requests failed`);
    spawnSync("callgrind_control", ["-d", String(pid)]);
    if (sinkUrl) {
      // Every call's two spans must have reached the receiver, or the figure leaves out the export.
      await new Promise((r) => setTimeout(r, 3_000));
      const spans = Number(await (await fetch(sinkUrl)).text());
      if (spans < 2 * (warmup + requests)) throw new Error(`${name}: the receiver got ${spans} spans, expected at least ${2 * (warmup + requests)}`);
    }
    return { path: name, what: WHAT[name], requests, instructionsPerRequest: Math.round((await totalInstructions(measured.outPrefix, pid)) / requests) };
  } finally {
    await Promise.all([measured.child, ...others].map((c) => h.stop(c)));
  }
}

const results = await h.session(async () => {
  const measured = [];
  for (const name of chosen) {
    process.stderr.write(`measuring ${name} under callgrind ...\n`);
    measured.push(await measure(name));
  }
  return measured;
});
const out = path.join(ROOT, "bench", "results", `instructions-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), requests, warmup, bodyBytes: body.byteLength, results }, null, 2) + "\n");
console.log("| process | instructions per request |\n|---|---|");
for (const r of results) console.log(`| ${r.what} | ${(r.instructionsPerRequest / 1000).toFixed(1)}k |`);
console.log(`\n${requests} sequential keep-alive POSTs of 1 KiB after ${warmup} warm-up; results in ${path.relative(ROOT, out)}`);
