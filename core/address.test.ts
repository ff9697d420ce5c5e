// host:port parsing shared by the static resolver and the Redis store.

import { describe, expect, it } from "vitest";
import { hostPort } from "./address.ts";

describe("hostPort", () => {
  it("reads host:port and [ipv6]:port, and a host alone only where a default port is given", () => {
    expect(hostPort("redis-master:6380")).toEqual({ host: "redis-master", port: 6380 });
    expect(hostPort("[::1]:6379")).toEqual({ host: "::1", port: 6379 });
    expect(hostPort("redis-master", 6379)).toEqual({ host: "redis-master", port: 6379 });
    expect(hostPort("[fe80::1]", 6379)).toEqual({ host: "fe80::1", port: 6379 });
    for (const bad of ["redis-master", "h:0", "h:65536", "h:port", "::1:6379", "a b:1", ""]) expect(() => hostPort(bad), bad).toThrow(/invalid address/);
    expect(() => hostPort("h:port", 6379)).toThrow(/or a host alone for port 6379/);
  });
});
