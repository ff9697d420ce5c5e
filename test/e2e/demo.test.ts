// The README's first command runs `npm run demo`: it must keep working at every commit.

import { describe, expect, it } from "vitest";
import path from "node:path";
import { BUN, ROOT, spawnProc } from "../helpers.ts";

describe("npm run demo", () => {
  it("has two apps call each other through two sidecars and stops cleanly", async () => {
    const p = spawnProc(BUN, [path.join(ROOT, "demo", "run.ts")]);
    const { code } = await p.exited;
    const out = p.output();
    expect(code, out).toBe(0);
    for (const id of [1, 2, 3]) expect(out).toMatch(new RegExp(`order ${id} -> HTTP 201 in [\\d.]+ ms: \\{"accepted":${id},"confirmation":\\{"order":${id},"status":"confirmed"\\}\\}`));
    expect(out).toContain("confirming order 3 for orders");
    expect(out).toContain("demo finished: both apps and both sidecars stopped cleanly");
  });
});
