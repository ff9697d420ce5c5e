// Test harness for end-to-end tests: spawns real `meshlet run` processes (on the pinned Bun)
// with real apps, waits for readiness over HTTP, and kills every process it started.

import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { freePort } from "../cli/ports.ts";

export const ROOT = path.resolve(import.meta.dirname, "..");
/** The meshlet command under test: bin/meshlet (the sources on the pinned Bun), or MESHLET_BIN (the single binary, npm run test:binary). */
export const MESHLET = process.env.MESHLET_BIN ? path.resolve(ROOT, process.env.MESHLET_BIN) : path.join(ROOT, "bin", "meshlet");
export const BUN = path.join(ROOT, "node_modules", ".bin", "bun");
export const ECHO_APP = path.join(ROOT, "test", "apps", "echo.mjs");

export { freePort };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown inside a waitFor check: the awaited thing can no longer happen (a process exited), so stop now. */
export class StopWaiting extends Error {}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof StopWaiting) throw e;
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/**
 * Asserts that a process has printed `want`, waiting up to `ms` for it: when a port, a file or a
 * fetch says a process is up, its last lines may still sit in the pipe unread by this process.
 */
export async function expectOutput(p: { output(): string }, want: string | RegExp, ms = 5_000): Promise<void> {
  const has = () => (typeof want === "string" ? p.output().includes(want) : want.test(p.output()));
  // The wait only gives the pipe time; the assertion below says what was missing.
  await waitFor(`output ${String(want)}`, async () => has(), ms).catch(() => {});
  if (typeof want === "string") expect(p.output()).toContain(want);
  else expect(p.output()).toMatch(want);
}

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr as they arrived. */
  output(): string;
  /** stdout alone (a command's JSON, without its stderr lines). */
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
const extraPids = new Set<number>();

/** Starts `cmd` in its own process group; `input`, when given, is its whole stdin. */
export function spawnProc(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string, input?: string): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"], detached: true, cwd });
  if (input !== undefined) child.stdin!.end(input);
  let out = "";
  let stdout = "";
  child.stdout!.on("data", (d) => {
    out += d;
    stdout += d;
  });
  child.stderr!.on("data", (d) => (out += d));
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, pid: child.pid!, output: () => out, stdout: () => stdout, exited };
}

/** A fresh MESHLET_HOME per test file, so registries of parallel runs never mix. */
export function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-test-"));
}

export interface Sidecar extends Proc {
  readonly httpPort: number;
  readonly appPort: number | null;
  readonly url: string;
  /** pid of the app the sidecar started, if any. */
  appPid(): number | null;
}

export interface StartOptions {
  appId: string;
  home: string;
  /** Start the echo app on this port (a free one when true). */
  echo?: boolean | number;
  args?: string[];
  command?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for /v1.0/healthz (default when an app runs) or only for the API. */
  waitReady?: boolean;
}

export async function startSidecar(o: StartOptions): Promise<Sidecar> {
  // A free port can be taken by another test file between our probe and the sidecar's bind:
  // that start is tried again on a new port, so parallel files do not fail each other.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSidecarOnce(o);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof PortTaken)) throw e;
    }
  }
}

class PortTaken extends Error {}

async function startSidecarOnce(o: StartOptions): Promise<Sidecar> {
  const httpPort = await freePort();
  const appPort = o.echo === true ? await freePort() : typeof o.echo === "number" ? o.echo : null;
  const args = ["run", "-a", o.appId, "-H", String(httpPort), ...(appPort ? ["-p", String(appPort)] : []), ...(o.args ?? [])];
  const command = o.command ?? (o.echo ? ["node", ECHO_APP] : []);
  if (command.length) args.push("--", ...command);
  const p = spawnProc(MESHLET, args, { MESHLET_HOME: o.home, ...o.env });
  const url = `http://127.0.0.1:${httpPort}`;
  const ready = o.waitReady ?? true;
  try {
    await waitFor(`sidecar ${o.appId} on ${httpPort}`, async () => {
      if (p.child.exitCode !== null) throw new StopWaiting(`sidecar ${o.appId} exited early (code ${p.child.exitCode})`);
      const r = await fetch(`${url}/v1.0/healthz${ready ? "" : "/outbound"}`);
      return r.status === 204;
    });
  } catch (e) {
    const message = `${(e as Error).message}\n--- output ---\n${p.output()}`;
    if (p.output().includes(`HTTPPort. Port ${httpPort} is not available`)) throw new PortTaken(message);
    throw new Error(message);
  }
  let appPid: number | null = null;
  if (command.length) {
    const headers: Record<string, string> = o.env?.DAPR_API_TOKEN ? { "dapr-api-token": o.env.DAPR_API_TOKEN } : {};
    const md = (await (await fetch(`${url}/v1.0/metadata`, { headers })).json()) as { extended: Record<string, string> };
    appPid = Number(md.extended.appPID) || null;
    if (appPid) extraPids.add(appPid);
  }
  return { ...p, httpPort, appPort, url, appPid: () => appPid };
}

/** Kills everything this file started: sidecars (process groups) and the apps they spawned. */
export async function killAll(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const c of live) {
    waits.push(new Promise((r) => c.once("exit", r)));
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      c.kill("SIGKILL");
    }
  }
  for (const pid of extraPids) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  extraPids.clear();
  await Promise.race([Promise.all(waits), sleep(3000)]);
}

export function trackPid(pid: number): void {
  extraPids.add(pid);
}

/** VmRSS of a process in bytes (Linux /proc). */
export function rss(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) * 1024 : 0;
}

/** A request through node:http, for headers fetch refuses to send (Connection, Upgrade, ...). */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** The run record `meshlet run` wrote for `appId` under `home` (ports, pids). */
export function runRecord(home: string, appId: string): { internalPort: number; pid: number; appPid: number | null; httpPort: number } {
  const dir = path.join(home, "runs");
  for (const f of fs.readdirSync(dir)) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    if (r.appId === appId) return r;
  }
  throw new Error(`no run record for ${appId}`);
}

/** Writes a file into a fresh temp dir and returns its path. */
export function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-file-"));
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** What a sidecar's metrics port serves now (the port its start line logged). */
export async function scrapeMetrics(s: Sidecar): Promise<string> {
  const port = /metrics=127\.0\.0\.1:(\d+)\/metrics/.exec(s.output())?.[1];
  if (port === undefined) throw new Error(`the sidecar logged no metrics port:\n${s.output()}`);
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The values of the series in `text` whose line starts with `prefix` and contains each of `labels`, in order. */
export function seriesValues(text: string, prefix: string, ...labels: string[]): number[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(prefix) && labels.every((x) => l.includes(x)))
    .map((l) => Number(l.split(" ").pop()));
}
