// state.sqlite against the store contract (run under Bun, whose bun:sqlite it uses), and two
// processes sharing one database file as the sidecars of one host do.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { STORE_CONTRACT } from "./contract.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const BUN = path.join(ROOT, "node_modules", ".bin", "bun");
let results: Array<{ name: string; error: string | null }> = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-sqlite-"));

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
});
