// The shared resolver contract: every resolver runs these cases from its own test file, listing
// any case it skips with a reason. Behaviour only; each resolver tests its specifics beside it.

import { afterEach, describe, expect, it } from "vitest";
import { endpoint, type Endpoint } from "../core/call.ts";
import { SidecarError } from "../core/errors.ts";
import type { Registration, Resolver } from "./types.ts";

export interface ContractFixture {
  /** A resolver that knows exactly `regs` (registered, configured, or served by a test server). */
  make(regs: readonly Registration[], opts: { evictMs: number; now: () => number }): Promise<Resolver>;
  /** Called after each case: withdraw what `make` registered, so cases never see each other. */
  cleanup?(): Promise<void>;
}

const reg = (appId: string, port: number, namespace = "default"): Registration => ({ appId, namespace, host: "127.0.0.1", port });
const keys = (eps: readonly Endpoint[]) => eps.map((e) => e.key).sort();

export function runResolverContract(name: string, fixture: ContractFixture, skip: Partial<Record<string, string>> = {}): void {
  const test = (title: string, fn: () => Promise<void>) => (skip[title] ? it.skip(`${title} (${skip[title]})`, fn) : it(title, fn));
  // Resolvers read time through `now`: the cases move it instead of sleeping.
  let t = 1_000_000;
  const now = () => t;

  describe(`resolver contract: ${name}`, () => {
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    test("resolves a registered app-id to its endpoint", async () => {
      const r = await fixture.make([reg("orders", 41001)], { evictMs: 5000, now });
      expect(keys(await r.resolve({ appId: "orders", namespace: "default" }))).toEqual(["127.0.0.1:41001"]);
      await r.close();
    });

    test("returns every instance of one app-id", async () => {
      const r = await fixture.make([reg("orders", 41001), reg("orders", 41002), reg("billing", 41003)], { evictMs: 5000, now });
      expect(keys(await r.resolve({ appId: "orders", namespace: "default" }))).toEqual(["127.0.0.1:41001", "127.0.0.1:41002"]);
      await r.close();
    });

    test("rejects an unknown app-id with app_id_not_found", async () => {
      const r = await fixture.make([reg("orders", 41001)], { evictMs: 5000, now });
      const e = await r.resolve({ appId: "nobody", namespace: "default" }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SidecarError);
      expect((e as SidecarError).reason).toBe("app_id_not_found");
      expect((e as SidecarError).message).toContain("nobody");
      await r.close();
    });

    test("keeps namespaces apart", async () => {
      const r = await fixture.make([reg("orders", 41001, "prod"), reg("orders", 41002, "dev")], { evictMs: 5000, now });
      expect(keys(await r.resolve({ appId: "orders", namespace: "prod" }))).toEqual(["127.0.0.1:41001"]);
      expect(keys(await r.resolve({ appId: "orders", namespace: "dev" }))).toEqual(["127.0.0.1:41002"]);
      await expect(r.resolve({ appId: "orders", namespace: "default" })).rejects.toThrow(SidecarError);
      await r.close();
    });

    test("skips an evicted endpoint while another exists, and re-admits it later", async () => {
      const r = await fixture.make([reg("orders", 41001), reg("orders", 41002)], { evictMs: 150, now });
      const ref = { appId: "orders", namespace: "default" };
      r.evict(ref, endpoint("127.0.0.1", 41001));
      expect(keys(await r.resolve(ref))).toEqual(["127.0.0.1:41002"]);
      t += 250;
      expect(keys(await r.resolve(ref))).toEqual(["127.0.0.1:41001", "127.0.0.1:41002"]);
      await r.close();
    });
  });
}
