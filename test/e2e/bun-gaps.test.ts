// Bun behaviours the data plane relies on, checked on the pinned Bun rather than assumed.

import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUN, ROOT } from "../helpers.ts";

describe("Bun gaps", () => {
  it("hands every socket data callback its own buffer (the dialer keeps views without copying)", () => {
    const r = spawnSync(BUN, [path.join(ROOT, "test", "apps", "socket-buffers.ts")], { encoding: "utf8", timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { chunks: number; letters: string[]; bytes: number };
    expect(out.bytes).toBe(140_500);
    // Each kept chunk still holds only the letter that was sent in it, in order: a reused buffer
    // would show a later letter inside an earlier chunk.
    const seen = out.letters.join("");
    expect(out.letters.every((l) => l.length === 1)).toBe(true);
    expect(seen).toMatch(/^a+b+c+$/);
  });
});
