import { describe, expect, it } from "vitest";
import { HeaderList } from "./header-list.ts";
import { forwardRequestHeaders } from "../proxy/headers.ts";

describe("HeaderList", () => {
  it("reads like Headers: case-insensitive names, repeated values joined", () => {
    const h = HeaderList.of([
      ["X-Multi", "a"],
      ["x-other", "1"],
      ["x-multi", "b"],
    ]);
    expect(h.get("x-MULTI")).toBe("a, b");
    expect(h.has("X-Other")).toBe(true);
    expect(h.get("missing")).toBeNull();
    expect(h.size).toBe(3);
    expect(h.nameAt(0)).toBe("x-multi");
  });

  it("set replaces every value in place, delete removes all, order is kept", () => {
    const h = HeaderList.of([
      ["a", "1"],
      ["b", "2"],
      ["a", "3"],
      ["c", "4"],
    ]);
    h.set("A", "x");
    expect([...h]).toEqual([
      ["a", "x"],
      ["b", "2"],
      ["c", "4"],
    ]);
    h.set("d", "5");
    h.delete("b");
    expect([...h]).toEqual([
      ["a", "x"],
      ["c", "4"],
      ["d", "5"],
    ]);
  });

  it("converts to Web Headers with the same entries", () => {
    const h = HeaderList.of({ "content-type": "text/plain", "x-a": "1" });
    h.append("x-a", "2");
    const w = h.toHeaders();
    expect(w.get("x-a")).toBe("1, 2");
    expect(w.get("content-type")).toBe("text/plain");
  });
});

describe("forwardRequestHeaders into a HeaderList", () => {
  it("keeps content-length unless the body is chunked", () => {
    expect(forwardRequestHeaders(HeaderList.of({ "content-length": "5", "x-a": "1" })).get("content-length")).toBe("5");
    const chunked = forwardRequestHeaders(HeaderList.of({ "transfer-encoding": "chunked", "x-a": "1" }));
    expect(chunked.has("content-length")).toBe(false);
    expect(chunked.has("transfer-encoding")).toBe(false);
    expect(chunked.get("x-a")).toBe("1");
  });

  it("drops every header a Connection value lists, in any case", () => {
    const h = forwardRequestHeaders(HeaderList.of({ connection: "X-One, x-two", "x-one": "1", "x-two": "2", "x-three": "3" }));
    expect([...h]).toEqual([["x-three", "3"]]);
  });
});
