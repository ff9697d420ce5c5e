import { describe, expect, it } from "vitest";
import { runResolverContract } from "./contract.ts";
import { loadStaticMap, parseAddress, StaticResolver } from "./static.ts";

runResolverContract("static", {
  async make(regs, opts) {
    const apps: Record<string, string[]> = {};
    for (const r of regs) (apps[`${r.appId}.${r.namespace}`] ??= []).push(`${r.host}:${r.port}`);
    return new StaticResolver(loadStaticMap({ apps }), opts);
  },
});

describe("static resolver specifics", () => {
  it("parses host:port and bracketed IPv6", () => {
    expect(parseAddress("10.0.0.1:50002").key).toBe("10.0.0.1:50002");
    expect(parseAddress("[::1]:50002")).toMatchObject({ host: "::1", port: 50002, key: "[::1]:50002" });
    expect(() => parseAddress("nohost")).toThrow(/invalid address/);
    expect(() => parseAddress("h:99999")).toThrow(/invalid address/);
    expect(() => parseAddress("[::1]")).toThrow(/invalid address/);
  });

  it("still offers addresses when all were evicted (it has no other source)", async () => {
    const r = new StaticResolver(loadStaticMap({ apps: { a: ["127.0.0.1:1"] } }));
    r.evict({ appId: "a", namespace: "default" }, parseAddress("127.0.0.1:1"));
    expect((await r.resolve({ appId: "a", namespace: "default" })).map((e) => e.key)).toEqual(["127.0.0.1:1"]);
  });

  it("rejects a configuration without apps", () => {
    expect(() => loadStaticMap({})).toThrow(/needs `apps`/);
    expect(() => loadStaticMap({ apps: { a: 5 } })).toThrow(/list of addresses/);
  });
});
