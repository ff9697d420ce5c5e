// Rendezvous hashing: the same key always lands on the same endpoint, keys spread evenly, and a
// change to the endpoint set moves only the keys it must.

import { describe, expect, it } from "vitest";
import { rendezvousPick } from "./rendezvous.ts";
import { endpoint } from "../core/call.ts";

const eps = (n: number) => Array.from({ length: n }, (_, i) => endpoint(`10.0.0.${i + 1}`, 50002));
const keys = Array.from({ length: 3000 }, (_, i) => `user-${i}`);
const owners = (set: ReturnType<typeof eps>) => new Map(keys.map((k) => [k, rendezvousPick(set, k).key]));

describe("rendezvous hashing", () => {
  it("sends a key to the same endpoint whatever the order the resolver lists them in", () => {
    const set = eps(5);
    for (const k of keys.slice(0, 200)) expect(rendezvousPick([...set].reverse(), k).key).toBe(rendezvousPick(set, k).key);
  });

  it("spreads keys evenly: each of 4 endpoints gets 20-30 % of 3,000 keys", () => {
    const counts = new Map<string, number>();
    for (const owner of owners(eps(4)).values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(600);
      expect(n).toBeLessThan(900);
    }
  });

  it("moves only the keys of an endpoint that leaves, and only keys to one that joins", () => {
    const four = eps(4);
    const before = owners(four);
    const gone = four[2]!.key;
    const after = owners(four.filter((e) => e.key !== gone));
    for (const k of keys) if (before.get(k) !== gone) expect(after.get(k)).toBe(before.get(k));
    const five = owners(eps(5));
    const joined = eps(5)[4]!.key;
    let moved = 0;
    for (const k of keys) {
      if (five.get(k) === before.get(k)) continue;
      expect(five.get(k)).toBe(joined);
      moved++;
    }
    // About a fifth of the keys move to the new endpoint.
    expect(moved).toBeGreaterThan(450);
    expect(moved).toBeLessThan(750);
  });
});
