import { describe, expect, it } from "vitest";
import { BoundedMap } from "./bounded-map.ts";

describe("BoundedMap", () => {
  it("evicts the least recently used entry at the bound", () => {
    let t = 0;
    const evicted: string[] = [];
    const m = new BoundedMap<string, number>(2, 60_000, () => t, (k) => evicted.push(k));
    m.set("a", 1);
    t = 2000;
    m.set("b", 2);
    t = 4000;
    expect(m.get("a")).toBe(1); // a is now the most recently used
    m.set("c", 3);
    expect(evicted).toEqual(["b"]);
    expect([m.has("a"), m.has("b"), m.has("c")]).toEqual([true, false, true]);
  });

  it("sweeps entries idle for idleMs and keeps used ones", () => {
    let t = 0;
    const m = new BoundedMap<string, number>(10, 5000, () => t);
    m.set("old", 1);
    m.set("busy", 2);
    t = 4000;
    m.get("busy");
    t = 6000;
    expect(m.sweep()).toBe(1);
    expect([m.has("old"), m.has("busy")]).toEqual([false, true]);
  });

  it("replacing a value keeps one entry", () => {
    const m = new BoundedMap<string, number>(10, 5000, () => 0);
    m.set("a", 1);
    m.set("a", 2);
    expect([m.size, m.get("a")]).toEqual([1, 2]);
  });
});
