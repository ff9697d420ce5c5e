// The local registry is private and heals itself: 0700 directories and 0600 files, entries from
// another user or naming a non-loopback host ignored, a deleted directory rebuilt within one
// heartbeat, and a sidecar that cannot register says so on healthz and keeps trying.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { killAll, startSidecar, tempHome, waitFor, type Sidecar, expectOutput } from "../helpers.ts";

let home: string;
let registry: string;
let caller: Sidecar;
let echo: Sidecar;

beforeAll(async () => {
  home = tempHome();
  registry = path.join(home, "registry");
  echo = await startSidecar({ appId: "echo", home, echo: true });
  caller = await startSidecar({ appId: "caller", home, echo: true });
});
afterAll(killAll);

const mode = (p: string) => fs.statSync(p).mode & 0o777;

/** Calls echo through the caller n times; returns the ports of the apps that answered. */
async function calls(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${caller.url}/v1.0/invoke/echo/method/who`);
    expect(r.status).toBe(200);
    ports.push(((await r.json()) as { port: number }).port);
  }
  return ports;
}

/** A plain HTTP server that counts what reaches it: the target of a hijack attempt. */
async function trap(): Promise<{ port: number; hits: () => number; close: () => void }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.end(JSON.stringify({ port: -1 }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as { port: number }).port, hits: () => hits, close: () => server.close() };
}

function forge(name: string, host: string, port: number): string {
  const file = path.join(registry, `default~echo~${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ appId: "echo", namespace: "default", host, port, pid: 1, startedAt: 0 }));
  return file;
}

describe("local registry", () => {
  it("keeps its directories and files private to the user", () => {
    expect(mode(registry)).toBe(0o700);
    for (const f of fs.readdirSync(registry)) expect(mode(path.join(registry, f))).toBe(0o600);
    const runs = path.join(home, "runs");
    expect(mode(runs)).toBe(0o700);
    for (const f of fs.readdirSync(runs)) expect(mode(path.join(runs, f))).toBe(0o600);
  });

  it("ignores an entry naming a non-loopback host", async () => {
    const file = forge("1~1", "not-loopback.invalid", 50002);
    try {
      expect(new Set(await calls(10))).toEqual(new Set([echo.appPort]));
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)("ignores an entry owned by another user, however live it looks", async () => {
    const t = await trap();
    const file = forge("1~2", "127.0.0.1", t.port);
    fs.chownSync(file, 65534, 65534);
    try {
      expect(new Set(await calls(20))).toEqual(new Set([echo.appPort]));
      expect(t.hits()).toBe(0);
    } finally {
      fs.rmSync(file, { force: true });
      t.close();
    }
  });

  it("rebuilds a deleted directory: every live sidecar is back within one heartbeat", async () => {
    fs.rmSync(registry, { recursive: true, force: true });
    const t0 = Date.now();
    await waitFor("registry rebuilt", async () => fs.existsSync(registry) && fs.readdirSync(registry).filter((f) => f.endsWith(".json")).length === 2, 6000);
    // One heartbeat is 2 s; allow scheduling slack on a busy machine.
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(mode(registry)).toBe(0o700);
    expect(new Set(await calls(3))).toEqual(new Set([echo.appPort]));
  });
});

describe("a sidecar that cannot register", () => {
  it("is not ready and says why, keeps trying, and registers once it can", async () => {
    const h = tempHome();
    const blocker = path.join(h, "blocked");
    // A file where the registry's parent directory should be: nothing can be created under it
    // (a permission change would not stop root, which CI runs as).
    fs.writeFileSync(blocker, "");
    const dir = path.join(blocker, "registry");
    const s = await startSidecar({ appId: "late", home: h, echo: true, waitReady: false, env: { MESHLET_REGISTRY_DIR: dir } });
    await waitFor("not ready with a reason", async () => {
      const r = await fetch(`${s.url}/v1.0/healthz`);
      const body = r.status === 500 ? ((await r.json()) as { message: string }).message : "";
      return body.includes("registration with the local resolver failed");
    });
    await expectOutput(s, /registration failed; retrying/);
    fs.rmSync(blocker);
    fs.mkdirSync(blocker);
    await waitFor("ready once registered", async () => (await fetch(`${s.url}/v1.0/healthz`)).status === 204, 6000);
    expect(fs.readdirSync(dir).some((f) => f.startsWith("default~late~"))).toBe(true);
  });
});
