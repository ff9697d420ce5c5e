// Process plumbing for the benchmark: start the app, sidecars and peer proxies pinned to CPU
// cores, wait until they answer, run the Node load generator, and kill everything at the end.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");
const BUN = path.join(ROOT, "node_modules", ".bin", "bun");
const MESHLET = path.join(ROOT, "bin", "meshlet");
const HAS_TASKSET = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;
export const hasCommand = (c: string) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0;

/** The proxies under test share core 1; the app and the load generator share core 0. */
const pin = (core: number | null, cmd: string[]) => (HAS_TASKSET && core !== null && os.cpus().length > 1 ? ["taskset", "-c", String(core), ...cmd] : cmd);

/** The runtime settings bin/meshlet gives a sidecar, given to the Bun peers too so they compare like for like. */
const SIDECAR_RUNTIME_ENV = { BUN_JSC_useFTLJIT: "0", MIMALLOC_PURGE_HOLES: "0", MIMALLOC_PURGE_DELAY: "1000" };

export class Harness {
  private readonly procs: ChildProcess[] = [];
  readonly logDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-bench-"));
  readonly home = path.join(this.logDir, "home");

  spawn(name: string, cmd: string[], core: number | null, env: NodeJS.ProcessEnv = {}): ChildProcess {
    const argv = pin(core, cmd);
    const log = fs.openSync(path.join(this.logDir, `${name}.log`), "a");
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", log, log], env: { ...process.env, ...env }, detached: true });
    this.procs.push(child);
    return child;
  }

  log(name: string): string {
    try {
      return fs.readFileSync(path.join(this.logDir, `${name}.log`), "utf8");
    } catch {
      return "";
    }
  }

  async app(port: number): Promise<ChildProcess> {
    const c = this.spawn(`app-${port}`, [BUN, path.join(ROOT, "bench", "app.ts"), String(port)], 0);
    await waitHttp(`http://127.0.0.1:${port}/`, 200);
    return c;
  }

  /** `meshlet run` as a user would start it; resolves when its health endpoint says ready. */
  async sidecar(appId: string, httpPort: number, appPort: number | null, extra: string[] = [], home = this.home): Promise<ChildProcess> {
    const args = ["run", "-a", appId, "-H", String(httpPort), "--log-level", "warn", ...(appPort ? ["-p", String(appPort)] : []), ...extra];
    const c = this.spawn(`meshlet-${appId}-${httpPort}`, [MESHLET, ...args], 1, { MESHLET_HOME: home });
    await waitHttp(`http://127.0.0.1:${httpPort}/v1.0/healthz${appPort ? "" : "/outbound"}`, 204);
    return c;
  }

  /** haproxy on `config`; `tlsOnly` when its port speaks TLS (readiness is then a TCP connect). */
  async haproxy(name: string, config: string, port: number, tlsOnly = false): Promise<ChildProcess> {
    const file = path.join(this.logDir, `${name}.cfg`);
    fs.writeFileSync(file, config);
    const c = this.spawn(name, ["haproxy", "-db", "-f", file], 1);
    if (tlsOnly) await waitTcp(port);
    else await waitHttp(`http://127.0.0.1:${port}/method/x`, 200);
    return c;
  }

  async httpProxy(name: string, port: number, target: string): Promise<ChildProcess> {
    const c = this.spawn(name, ["node", path.join(ROOT, "bench", "peers", "httpproxy.cjs")], 1, { PORT: String(port), TARGET: target });
    await waitHttp(`http://127.0.0.1:${port}/method/x`, 200);
    return c;
  }

  /** A Zipkin receiver on `port`, on the load's core (a collector runs beside, not on, the sidecars' core). */
  async zipkinSink(name: string, port: number): Promise<ChildProcess> {
    const c = this.spawn(name, [BUN, path.join(ROOT, "bench", "peers", "zipkin-sink.ts"), String(port)], 0);
    await waitHttp(`http://127.0.0.1:${port}/`, 200);
    return c;
  }

  /** An OTLP/gRPC receiver on `port` (cleartext HTTP/2) whose span count is served on `countPort`, on the load's core. */
  async otlpGrpcSink(name: string, port: number, countPort: number): Promise<ChildProcess> {
    const c = this.spawn(name, [BUN, path.join(ROOT, "bench", "peers", "otlp-grpc-sink.ts"), String(port), String(countPort)], 0);
    await waitHttp(`http://127.0.0.1:${countPort}/`, 200);
    return c;
  }

  /** A Configuration (written under logDir as `name`) tracing at `rate` to the sink on `sinkPort`, over Zipkin, OTLP/HTTP or OTLP/gRPC. */
  tracingConfig(name: string, rate: string, sinkPort: number, exporter: "zipkin" | "otlp" | "otlp-grpc" = "zipkin"): string {
    const file = path.join(this.logDir, name);
    const to =
      exporter === "otlp"
        ? `otel:\n      endpointAddress: "http://127.0.0.1:${sinkPort}/v1/traces"\n      isSecure: false\n      protocol: http`
        : exporter === "otlp-grpc"
          ? `otel:\n      endpointAddress: "127.0.0.1:${sinkPort}"\n      isSecure: false\n      protocol: grpc`
          : `zipkin:\n      endpointAddress: "http://127.0.0.1:${sinkPort}/api/v2/spans"`;
    fs.writeFileSync(file, `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: t}\nspec:\n  tracing:\n    samplingRate: "${rate}"\n    ${to}\n`);
    return file;
  }

  /** A Bun peer from bench/peers/ (tcp-relay.ts, bun-forwarder.ts) listening on `port`. */
  async bunPeer(script: string, name: string, port: number, upstreamPort: number): Promise<ChildProcess> {
    const c = this.spawn(name, [BUN, path.join(ROOT, "bench", "peers", script), String(port), String(upstreamPort)], 1, SIDECAR_RUNTIME_ENV);
    await waitHttp(`http://127.0.0.1:${port}/method/x`, 200);
    return c;
  }

  stop(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        child.kill("SIGTERM");
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // gone
        }
      }, 3000).unref();
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((c) => this.stop(c)));
  }

  /**
   * Runs a benchmark's body, then ends the run: every process stopped, and the logs removed if the
   * body finished (kept if it threw, and the run says where they are).
   */
  async session<T>(body: () => Promise<T>): Promise<T> {
    let ok = false;
    try {
      const result = await body();
      ok = true;
      return result;
    } finally {
      await this.stopAll();
      if (ok) fs.rmSync(this.logDir, { recursive: true, force: true });
      else process.stderr.write(`logs kept in ${this.logDir}\n`);
    }
  }
}

export interface LoadResult {
  requests: number;
  ok: number;
  rps: number;
  errors: number;
  non2xx: number;
  statuses: Record<string, number>;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  /** How the fixed rate was paced (see load.mjs), or "max" without a rate. */
  pace: Pace | "max";
  /** Even pacing: p99 of how late requests left (ms); large means the generator fell behind. */
  lagP99: number | null;
  /** Seconds the load ran, without the load generator's start-up (rps counts over them). */
  seconds?: number;
  /** Every successful response time, sorted (ms), when `raw` was asked for. */
  latencies?: number[];
}

export type Pace = "even" | "burst";

/** Runs autocannon on Node (pinned with the app) and returns its JSON result. */
export function load(opts: { url: string; rate?: number; pace?: Pace; duration: number; connections?: number; bodyBytes?: number; method?: string; raw?: boolean }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const argv = pin(0, ["node", path.join(ROOT, "bench", "load.mjs"), JSON.stringify(opts)]);
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    c.stdout!.on("data", (d) => (out += d));
    c.once("exit", (code) => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as LoadResult);
      } catch {
        reject(new Error(`load generator failed (exit ${code}): ${out}`));
      }
    });
  });
}

export { freePort } from "../cli/ports.ts";

/** Polls `url` until it answers `status`; fails at once if `child` (the process behind it) exits. */
export async function waitHttp(url: string, status: number, timeoutMs = 20_000, child?: ChildProcess): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child && child.exitCode !== null) throw new Error(`the process behind ${url} exited (${child.exitCode})`);
    try {
      // Each try is bounded by the time left, so a process that accepts and never answers cannot hang it.
      const r = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, end - Date.now())) });
      await r.arrayBuffer();
      if (r.status === status) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms`);
}

/** Waits until 127.0.0.1:`port` accepts a TCP connection. */
export async function waitTcp(port: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`127.0.0.1:${port} did not accept a connection within ${timeoutMs} ms`);
}
