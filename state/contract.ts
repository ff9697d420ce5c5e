// The state store contract as checks every store runs (in-memory and Redis under vitest, SQLite
// under Bun through state/sqlite-contract.run.ts): plain functions with node:assert, so either
// runtime runs them. Each gets a fresh store on a clock it can move (or wait for).

import assert from "node:assert/strict";
import { EtagMismatch, type StateStore } from "./store.ts";

export interface ContractSubject {
  readonly store: StateStore;
  /** Moves the store's clock forward (TTL): a fake clock's step, or a real wait for a server's clock. */
  advance(ms: number): void | Promise<void>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function rejectsMismatch(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof EtagMismatch);
}

export const STORE_CONTRACT: ReadonlyArray<readonly [string, (s: ContractSubject) => Promise<void>]> = [
  [
    "saves, reads back the exact bytes with an ETag, and reads a missing key as null",
    async ({ store }) => {
      assert.equal(await store.get("app||missing"), null);
      await store.set({ key: "app||order", value: bytes('{"orderId":42}') });
      const got = await store.get("app||order");
      assert.equal(text(got?.data), '{"orderId":42}');
      assert.ok(got && got.etag.length > 0);
    },
  ],
  [
    "changes the ETag on every write, and a write with a stale ETag is refused",
    async ({ store }) => {
      await store.set({ key: "k", value: bytes("1") });
      const first = (await store.get("k"))!.etag;
      await store.set({ key: "k", value: bytes("2"), etag: first });
      const second = (await store.get("k"))!.etag;
      assert.notEqual(second, first);
      await rejectsMismatch(store.set({ key: "k", value: bytes("3"), etag: first }));
      assert.equal(text((await store.get("k"))?.data), "2");
      // An ETag for a key that does not exist matches nothing.
      await rejectsMismatch(store.set({ key: "nothing", value: bytes("x"), etag: first }));
    },
  ],
  [
    "first-write without an ETag saves only a new key; last-write overwrites",
    async ({ store }) => {
      await store.set({ key: "fw", value: bytes("a"), concurrency: "first-write" });
      await rejectsMismatch(store.set({ key: "fw", value: bytes("b"), concurrency: "first-write" }));
      await store.set({ key: "fw", value: bytes("c"), concurrency: "last-write" });
      assert.equal(text((await store.get("fw"))?.data), "c");
    },
  ],
  [
    "deletes, with an If-Match ETag checked, and deleting a missing key without one is fine",
    async ({ store }) => {
      await store.set({ key: "d", value: bytes("v") });
      const etag = (await store.get("d"))!.etag;
      await rejectsMismatch(store.delete({ key: "d", etag: `${etag}0` }));
      assert.notEqual(await store.get("d"), null);
      await store.delete({ key: "d", etag });
      assert.equal(await store.get("d"), null);
      await store.delete({ key: "d" });
      await rejectsMismatch(store.delete({ key: "d", etag }));
    },
  ],
  [
    "expires a key after its TTL, and keeps one saved with -1",
    async ({ store, advance }) => {
      await store.set({ key: "t", value: bytes("short"), ttlSeconds: 2 });
      await store.set({ key: "p", value: bytes("kept"), ttlSeconds: -1 });
      await advance(1_500);
      assert.equal(text((await store.get("t"))?.data), "short");
      await advance(1_000);
      assert.equal(await store.get("t"), null);
      assert.equal(text((await store.get("p"))?.data), "kept");
    },
  ],
  [
    "applies a transaction whole, and one that fails halfway leaves nothing written",
    async ({ store }) => {
      await store.set({ key: "a", value: bytes("a0") });
      const etag = (await store.get("a"))!.etag;
      await store.transact([
        { op: "upsert", req: { key: "a", value: bytes("a1"), etag } },
        { op: "upsert", req: { key: "b", value: bytes("b1") } },
        { op: "delete", req: { key: "gone" } },
      ]);
      assert.equal(text((await store.get("a"))?.data), "a1");
      assert.equal(text((await store.get("b"))?.data), "b1");
      await rejectsMismatch(
        store.transact([
          { op: "upsert", req: { key: "c", value: bytes("c1") } },
          { op: "delete", req: { key: "b" } },
          { op: "upsert", req: { key: "a", value: bytes("a2"), etag } },
        ]),
      );
      assert.equal(await store.get("c"), null);
      assert.equal(text((await store.get("b"))?.data), "b1");
      assert.equal(text((await store.get("a"))?.data), "a1");
    },
  ],
  [
    "sees a transaction's earlier operations in its later checks",
    async ({ store }) => {
      await store.transact([
        { op: "upsert", req: { key: "n", value: bytes("1"), concurrency: "first-write" } },
        { op: "delete", req: { key: "n" } },
        { op: "upsert", req: { key: "n", value: bytes("2"), concurrency: "first-write" } },
      ]);
      assert.equal(text((await store.get("n"))?.data), "2");
    },
  ],
  [
    "keeps values byte for byte, binary and large",
    async ({ store }) => {
      const big = new Uint8Array(300_000).map((_, i) => i % 251);
      await store.set({ key: "bin", value: big });
      assert.deepEqual((await store.get("bin"))?.data, big);
      await store.set({ key: "utf", value: bytes('"ünïcødé ✓ \\u0000"') });
      assert.equal(text((await store.get("utf"))?.data), '"ünïcødé ✓ \\u0000"');
    },
  ],
];
