// The working-set reading the benchmark prints beside RSS: pages used since clear_refs, counted on
// a Bun process (what the benchmark measures; under Node, on a 6.18 guest kernel, the reading
// stays near zero whatever the process does).

import { spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { describe, expect, it } from "vitest";
import { clearTouched, memory, touchedMb } from "./proc.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

/** A Bun process holding 48 MiB, written once; each line on its stdin writes it again. */
const HOLDER = `
import { touchTracked } from "./bench/proc.ts";
const buf = Buffer.alloc(48 << 20, 1);
console.log(JSON.stringify({ tracked: await touchTracked() }));
let n = 2;
for await (const _ of console) { buf.fill(n++); console.log("written"); }
`;

describe("touchedMb", () => {
  it("counts the pages a process used since clearTouched, not every resident page, where touchTracked says the kernel can", async () => {
    const child = spawn(path.join(ROOT, "node_modules", ".bin", "bun"), ["-e", HOLDER], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
    try {
      const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const next = async () => String((await lines.next()).value);
      const { tracked } = JSON.parse(await next()) as { tracked: boolean };
      expect(clearTouched(child.pid!)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      const before = touchedMb(child.pid!);
      expect(memory(child.pid!).rssMb - before).toBeGreaterThan(40);
      child.stdin!.write("go\n");
      expect(await next()).toBe("written");
      const used = touchedMb(child.pid!) - before;
      // The probe's small answer agrees with this larger measurement, whichever way this kernel goes.
      if (tracked) expect(used).toBeGreaterThan(40);
      else expect(used).toBeLessThan(8);
    } finally {
      child.kill();
    }
  });

  it("reads nothing for a process that is gone", () => {
    expect(clearTouched(2 ** 22 + 1)).toBe(false);
    expect(touchedMb(2 ** 22 + 1)).toBe(0);
  });
});
