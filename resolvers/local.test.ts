import { afterEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { runResolverContract } from "./contract.ts";
import { LocalRegistry, readRegistry } from "./local.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-reg-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

runResolverContract("local", {
  async make(regs, opts) {
    const dir = tempDir();
    // One registry object per registration, as separate sidecars would have.
    for (const r of regs) await new LocalRegistry({ dir }).register(r);
    return new LocalRegistry({ dir, evictMs: opts.evictMs, now: opts.now });
  },
});

describe("local registry specifics", () => {
  it("keeps a not-ready sidecar known: callers get app_unreachable with why, then its endpoint once it is ready", async () => {
    const dir = tempDir();
    const self = { appId: "slow", namespace: "default", host: "127.0.0.1", port: 41999 };
    const own = new LocalRegistry({ dir });
    await own.registerNotReady(self, "its app on 127.0.0.1:3000 refuses connections");
    const caller = new LocalRegistry({ dir, cacheMs: 0 });
    const err = await caller.resolve({ appId: "slow", namespace: "default" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "app_unreachable", neverSent: true, message: "failed to invoke, id: slow, err: the sidecar of slow is running but not ready: its app on 127.0.0.1:3000 refuses connections" });
    expect(caller.absent({ appId: "slow", namespace: "default" })).toBe(false);
    // The same file turns ready in place; a ready instance beside a not-ready one is all callers see.
    const files = fs.readdirSync(dir);
    await own.register(self);
    expect(fs.readdirSync(dir)).toEqual(files);
    expect((await caller.resolve({ appId: "slow", namespace: "default" })).map((e) => e.key)).toEqual(["127.0.0.1:41999"]);
    const second = new LocalRegistry({ dir });
    await second.registerNotReady({ ...self, port: 42000 }, "starting");
    expect((await caller.resolve({ appId: "slow", namespace: "default" })).map((e) => e.key)).toEqual(["127.0.0.1:41999"]);
    await Promise.all([own.close(), second.close(), caller.close()]);
  });

  it("deregister removes the entry at once", async () => {
    const dir = tempDir();
    const me = new LocalRegistry({ dir });
    await me.register({ appId: "a", namespace: "default", host: "127.0.0.1", port: 1234 });
    let t = 0;
    const peer = new LocalRegistry({ dir, now: () => t });
    expect((await peer.resolve({ appId: "a", namespace: "default" })).length).toBe(1);
    await me.deregister();
    // Past the cache's lifetime: the next lookup reads the directory again.
    t += 1000;
    await expect(peer.resolve({ appId: "a", namespace: "default" })).rejects.toThrow(/couldn't find service: a/);
  });

  it("ignores and removes entries whose process is gone", async () => {
    const dir = tempDir();
    const child = spawn("sleep", ["0"]);
    await new Promise((r) => child.once("exit", r));
    const file = path.join(dir, `default~ghost~${child.pid}~999.json`);
    fs.writeFileSync(file, JSON.stringify({ appId: "ghost", namespace: "default", host: "127.0.0.1", port: 999, pid: child.pid, startedAt: Date.now() }));
    expect(await readRegistry(dir)).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("ignores entries not refreshed within the stale window (pid reuse guard)", async () => {
    const dir = tempDir();
    const file = path.join(dir, `default~old~${process.pid}~998.json`);
    fs.writeFileSync(file, JSON.stringify({ appId: "old", namespace: "default", host: "127.0.0.1", port: 998, pid: process.pid, startedAt: 0 }));
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(file, past, past);
    expect(await readRegistry(dir, 15_000)).toEqual([]);
  });

  it("sees a new registration immediately despite its cache (directory watch)", async () => {
    const dir = tempDir();
    const a = new LocalRegistry({ dir });
    await a.register({ appId: "svc", namespace: "default", host: "127.0.0.1", port: 2001 });
    const reader = new LocalRegistry({ dir, cacheMs: 60_000 });
    expect((await reader.resolve({ appId: "svc", namespace: "default" })).map((e) => e.port)).toEqual([2001]);
    const b = new LocalRegistry({ dir });
    await b.register({ appId: "svc", namespace: "default", host: "127.0.0.1", port: 2002 });
    let ports: number[] = [];
    for (let i = 0; i < 40 && ports.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 25));
      ports = (await reader.resolve({ appId: "svc", namespace: "default" })).map((e) => e.port).sort();
    }
    expect(ports).toEqual([2001, 2002]);
    await Promise.all([a.close(), b.close(), reader.close()]);
  });
});
