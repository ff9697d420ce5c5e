// state.redis against the store contract on a real redis-server, Dapr's layout read back with
// redis-cli, and a Redis killed and restarted under a live store.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAll, waitFor } from "../test/helpers.ts";
import { hasRedis, startRedis, type Redis } from "../test/redis.ts";
import { STORE_CONTRACT } from "./contract.ts";
import { RedisStore } from "./redis-store.ts";
import { EtagInvalid } from "./store.ts";

const can = hasRedis();
let redis: Redis;
beforeAll(async () => {
  if (can) redis = await startRedis("s3cret");
});
afterAll(killAll);

const open = () => RedisStore.open({ host: redis.address, password: "s3cret" });
const bytes = (s: string) => new TextEncoder().encode(s);

describe.skipIf(!can)("state.redis: the store contract (real redis-server)", () => {
  let n = 0;
  for (const [name, check] of STORE_CONTRACT) {
    it(name, async () => {
      // Each check in its own Redis database, so keys never collide.
      redis.cli("-n", String(++n % 16), "FLUSHDB");
      const scoped = await RedisStore.open({ host: redis.address, password: "s3cret", db: n % 16 });
      await check({ store: scoped, advance: (ms) => new Promise((r) => setTimeout(r, ms)) });
      await scoped.close();
    });
  }
});

describe.skipIf(!can)("state.redis: Dapr's layout and faults", () => {
  it("keeps a hash per key with data and version (the ETag), first-write and TTL as daprd does", async () => {
    const store = await open();
    await store.set({ key: "nodeapp||order", value: bytes('{"orderId":1}') });
    await store.set({ key: "nodeapp||order", value: bytes('{"orderId":2}') });
    expect(redis.cli("HGETALL", "nodeapp||order").trim().split("\n")).toEqual(["data", '{"orderId":2}', "version", "2"]);
    expect((await store.get("nodeapp||order"))!.etag).toBe("2");
    await store.set({ key: "nodeapp||fw", value: bytes("1"), concurrency: "first-write" });
    expect(redis.cli("HGET", "nodeapp||fw", "first-write").trim()).toBe("0");
    await store.set({ key: "nodeapp||ttl", value: bytes("1"), ttlSeconds: 100 });
    expect(Number(redis.cli("TTL", "nodeapp||ttl").trim())).toBeGreaterThan(90);
    await store.set({ key: "nodeapp||ttl", value: bytes("2"), ttlSeconds: -1 });
    expect(redis.cli("TTL", "nodeapp||ttl").trim()).toBe("-1");
    // Written by another client in the same layout (as daprd would): read back with its version.
    redis.cli("HSET", "nodeapp||fromdapr", "data", '"hi"', "version", "7");
    expect(await store.get("nodeapp||fromdapr")).toEqual({ data: bytes('"hi"'), etag: "7" });
    await expect(store.set({ key: "nodeapp||order", value: bytes("x"), etag: "not-a-version" })).rejects.toBeInstanceOf(EtagInvalid);
    await store.close();
  });

  it("fails calls while Redis is down, and works again once it is back, without a restart", async () => {
    const store = await open();
    await store.set({ key: "k", value: bytes("before") });
    await redis.stop();
    await expect(store.get("k")).rejects.toThrow();
    await redis.start();
    // No persistence here: the restarted server is empty, and the store writes to it again.
    await waitFor("the store to reconnect", async () => (await store.set({ key: "k", value: bytes("after") }).then(() => true, () => false)), 10_000);
    expect(new TextDecoder().decode((await store.get("k"))!.data)).toBe("after");
    await store.close();
  });

  it("says clearly at start when Redis cannot be reached or refuses the password", async () => {
    await expect(RedisStore.open({ host: "127.0.0.1:1" })).rejects.toThrow(/^cannot connect to Redis at 127\.0\.0\.1:1: /);
    await expect(RedisStore.open({ host: redis.address, password: "wrong" })).rejects.toThrow(/^cannot connect to Redis at .*: .*(WRONGPASS|invalid)/i);
  });
});

describe.skipIf(!can)("state.redis over TLS (enableTLS)", () => {
  let tlsRedis: Redis;
  beforeAll(async () => {
    tlsRedis = await startRedis("s3cret", { tls: true });
  });

  it("verifies the server against caCert and works; refuses a server its CAs did not sign", async () => {
    const store = await RedisStore.open({ host: tlsRedis.address, password: "s3cret", tls: true, caPem: tlsRedis.caPem });
    await store.set({ key: "nodeapp||order", value: bytes('{"orderId":7}') });
    expect(tlsRedis.cli("HGET", "nodeapp||order", "data").trim()).toBe('{"orderId":7}');
    await store.close();
    // The system CAs did not sign the test server: verification fails, the store does not open.
    await expect(RedisStore.open({ host: tlsRedis.address, password: "s3cret", tls: true })).rejects.toThrow(/^cannot connect to Redis at .*(certificate|self.signed|issuer)/i);
    // Plain TCP to a TLS port is not a working store either.
    await expect(RedisStore.open({ host: tlsRedis.address, password: "s3cret" })).rejects.toThrow(/^cannot connect to Redis at /);
  });
});
