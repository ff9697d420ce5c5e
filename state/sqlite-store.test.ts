// state.sqlite against the store contract (run under Bun, whose bun:sqlite it uses), two
// processes sharing one database file as the sidecars of one host do, a file locked by another
// process (waited for without stalling the event loop) and a read-only one.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { STORE_CONTRACT } from "./contract.ts";
import { BUN, ROOT } from "../test/helpers.ts";

let results: Array<{ name: string; error: string | null }> = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-sqlite-"));

const HOLDER = path.join(ROOT, "test", "apps", "sqlite-lock-holder.ts");
const bun = (script: string, ...args: string[]) => spawnSync(BUN, [script, ...args], { encoding: "utf8", timeout: 60_000 });

beforeAll(() => {
  const r = bun(path.join(ROOT, "state", "sqlite-contract.run.ts"), dir);
  if (r.status !== 0) throw new Error(`the contract run failed: ${r.stderr}`);
  results = JSON.parse(r.stdout.trim().split("\n").pop()!);
});

describe("state.sqlite: the store contract", () => {
  for (const [name] of STORE_CONTRACT) {
    it(name, () => {
      const r = results.find((x) => x.name === name);
      expect(r, "the check ran").toBeDefined();
      expect(r!.error).toBeNull();
    });
  }

  it("is shared by processes opening the same file, and says clearly when the file cannot be opened", () => {
    const file = path.join(dir, "shared.db");
    const script = path.join(dir, "writer.ts");
    fs.writeFileSync(
      script,
      `import { SqliteStore } from ${JSON.stringify(path.join(ROOT, "state", "sqlite-store.ts"))};
const [file, op, key, value] = process.argv.slice(2);
try {
  const s = await SqliteStore.open({ file });
  if (op === "set") await s.set({ key, value: new TextEncoder().encode(value) });
  else { const got = await s.get(key); console.log(got ? new TextDecoder().decode(got.data) : "(none)"); }
  await s.close();
} catch (e) { console.log("error: " + e.message); }`,
    );
    expect(bun(script, file, "set", "app||order", '{"orderId":7}').status).toBe(0);
    expect(bun(script, file, "get", "app||order").stdout.trim()).toBe('{"orderId":7}');
    const blocked = path.join(dir, "not-a-dir");
    fs.writeFileSync(blocked, "");
    expect(bun(script, path.join(blocked, "x.db"), "get", "k").stdout.trim()).toMatch(/^error: cannot open the SQLite state store at .*x\.db: /);
  });

  it("waits for a lock another process holds while the event loop runs on, and names the lock when its timeout passes", () => {
    const script = path.join(dir, "locked.ts");
    fs.writeFileSync(
      script,
      `import { SqliteStore } from ${JSON.stringify(path.join(ROOT, "state", "sqlite-store.ts"))};
const [file, holder] = process.argv.slice(2);
const hold = async (ms) => {
  const p = Bun.spawn(["bun", holder, file, String(ms)], { stdin: "pipe", stdout: "pipe" });
  const r = p.stdout.getReader();
  let seen = "";
  while (!seen.includes("locked")) seen += new TextDecoder().decode((await r.read()).value);
  return p;
};
const patient = await SqliteStore.open({ file, timeoutMs: 30_000 });
await patient.set({ key: "k", value: new TextEncoder().encode("before") });
const out = {};
let p = await hold(1500);
let ticks = 0;
const ticker = setInterval(() => ticks++, 10);
let readDuringWait = null;
const saved = patient.set({ key: "k", value: new TextEncoder().encode("after") }).then(() => "saved", (e) => "error: " + e.message);
readDuringWait = await Promise.race([patient.get("k").then((g) => new TextDecoder().decode(g.data)), saved]);
out.save = await saved;
clearInterval(ticker);
out.ticks = ticks;
out.readDuringWait = readDuringWait;
out.holderExit = await p.exited;
out.afterRelease = new TextDecoder().decode((await patient.get("k")).data);
const hasty = await SqliteStore.open({ file, timeoutMs: 300 });
p = await hold(20_000);
const t0 = performance.now();
out.timedOut = await hasty.set({ key: "k", value: new TextEncoder().encode("x") }).then(() => "saved", (e) => "error: " + e.message);
out.waitedMs = performance.now() - t0;
p.kill();
await p.exited;
console.log(JSON.stringify(out));`,
    );
    const r = spawnSync(BUN, [script, path.join(dir, "locked.db"), HOLDER], { encoding: "utf8", timeout: 60_000, env: { ...process.env, PATH: `${path.dirname(BUN)}:${process.env.PATH}` } });
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(out.save).toBe("saved");
    // Readers are not blocked by a writer in WAL mode: the old value answers while the save waits.
    expect(out.readDuringWait).toBe("before");
    expect(out.holderExit).toBe(0);
    expect(out.afterRelease).toBe("after");
    // A blocked event loop would tick once at the end; ~150 ticks are due over the 1.5 s hold.
    expect(out.ticks).toBeGreaterThan(30);
    expect(out.timedOut).toBe("error: the database file is locked by another process; waited 300 ms (the component's timeout)");
    expect(out.waitedMs).toBeGreaterThanOrEqual(300);
  });

  // As root, only a read-only mount stops a write, and making one needs a mount namespace.
  const canMakeReadOnly = process.getuid?.() !== 0 || spawnSync("unshare", ["-m", "true"]).status === 0;
  it.skipIf(!canMakeReadOnly)(`names a read-only volume as the cause when the file cannot be opened for writing${canMakeReadOnly ? "" : " (skipped: root without unshare -m)"}`, () => {
    const ro = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-sqlite-ro-"));
    expect(bun(path.join(dir, "writer.ts"), path.join(ro, "x.db"), "set", "k", "v").status).toBe(0);
    // As root, permissions do not stop a write: the directory is bind-mounted read-only in a
    // mount namespace of the child's own, as a read-only volume of a container is.
    const run = (file: string) =>
      process.getuid?.() === 0
        ? spawnSync("unshare", ["-m", "sh", "-c", `mount --bind -o ro "$0" "$0" && exec "$1" "$2" "$3" get k`, ro, BUN, path.join(dir, "writer.ts"), file], { encoding: "utf8", timeout: 60_000 })
        : (fs.chmodSync(ro, 0o555), bun(path.join(dir, "writer.ts"), file, "get", "k"));
    expect(run(path.join(ro, "new.db")).stdout.trim()).toMatch(/^error: cannot open the SQLite state store at .*new\.db: .* \(.*meshlet-sqlite-ro-\w+ is not writable: (read-only file system|EACCES.*)\)$/);
  });
});
