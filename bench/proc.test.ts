// The working-set reading the benchmark prints beside RSS: pages used since clear_refs, counted on
// this test's own process.

import { describe, expect, it } from "vitest";
import { clearTouched, memory, touchedMb } from "./proc.ts";

describe("touchedMb", () => {
  it("counts the pages used since clearTouched, not every resident page", () => {
    const buf = Buffer.alloc(48 << 20, 1); // resident: every page written
    expect(clearTouched(process.pid)).toBe(true);
    const before = touchedMb(process.pid);
    expect(memory(process.pid).rssMb - before).toBeGreaterThan(40);
    buf.fill(2);
    expect(touchedMb(process.pid) - before).toBeGreaterThan(40);
  });

  it("reads nothing for a process that is gone", () => {
    expect(clearTouched(2 ** 22 + 1)).toBe(false);
    expect(touchedMb(2 ** 22 + 1)).toBe(0);
  });
});
