import { describe, expect, it } from "vitest";
import { parseDuration, parseSize } from "./units.ts";

describe("parseSize (Kubernetes quantities)", () => {
  it("reads binary and decimal suffixes", () => {
    expect(parseSize("4Mi")).toBe(4 * 1024 * 1024);
    expect(parseSize("512Ki")).toBe(512 * 1024);
    expect(parseSize("10M")).toBe(10_000_000);
    expect(parseSize("1048576")).toBe(1048576);
  });
  it("rejects junk", () => {
    expect(() => parseSize("4 MB")).toThrow(/invalid size/);
    expect(() => parseSize("-1Mi")).toThrow(/invalid size/);
  });
});

describe("parseDuration (Go syntax, ms)", () => {
  it("reads Go durations and bare milliseconds", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("250")).toBe(250);
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration("100us")).toBeCloseTo(0.1);
  });
  it("rejects junk", () => {
    expect(() => parseDuration("5 sec")).toThrow(/invalid duration/);
    expect(() => parseDuration("1d")).toThrow(/invalid duration/);
    expect(() => parseDuration("")).toThrow(/invalid duration/);
  });
});
