// Component reloads on real files through the resources watch, on a fake clock: a change is
// handed over once, an edit that leaves this app's components as they were is not, a broken file
// is refused, and a change whose stores could not open is tried again after 10 s without another
// edit; one read of the files serves the resiliency consumer beside it.

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { silentLogger } from "../core/log.ts";
import { Metrics } from "../core/metrics.ts";
import type { ComponentSpec } from "../config/configuration.ts";
import { watchResources, type ResourcesConsumer } from "../resources/watch.ts";
import { componentReloads } from "./reload.ts";

const doc = (name: string, type: string) => `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec: {type: ${type}, version: v1}\n`;

describe("component reloads", () => {
  it("hands over changed components once, refuses broken files, and retries a change that failed to open", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-watch-"));
    const file = path.join(dir, "c.yaml");
    fs.writeFileSync(file, doc("cache", "state.in-memory"));
    let now = 0;
    const got: string[][] = [];
    let fail = false;
    const live = {
      reload: async (specs: readonly ComponentSpec[]) => {
        got.push(specs.map((c) => `${c.name}:${c.type}`));
        if (fail) throw new Error("cannot connect to Redis");
      },
    };
    const initial: ComponentSpec[] = [{ name: "cache", type: "state.in-memory", version: "v1", capabilities: [], metadata: {}, secretRefs: {}, secretStore: null, ignoreErrors: false, at: `${file}:1` }];
    const metrics = new Metrics();
    const policyReads: boolean[] = [];
    const policies: ResourcesConsumer = { changed: (r) => void policyReads.push(r.policies.ok) };
    const consumers = [componentReloads({ log: silentLogger, metrics, live, initial, now: () => now }), policies];
    const w = watchResources({ paths: [dir], appId: "me", log: silentLogger, consumers, pollMs: 3_600_000, inProcess: true, fileEvents: false });
    try {
      expect(await w.check()).toBe(false);
      // A Resiliency document beside it changes the files, not the components: nothing to swap,
      // while the resiliency consumer gets the same read.
      fs.writeFileSync(path.join(dir, "r.yaml"), "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec: {policies: {}}\n");
      expect(await w.check()).toBe(true);
      expect(got).toEqual([]);
      expect(policyReads).toEqual([true]);
      fs.appendFileSync(file, "---\n" + doc("orders", "state.sqlite"));
      await w.check();
      expect(got).toEqual([["cache:state.in-memory", "orders:state.sqlite"]]);
      fs.writeFileSync(path.join(dir, "bad.yaml"), "kind: Component\nmetadata: {}\n");
      await w.check();
      expect(got.length).toBe(1);
      fs.rmSync(path.join(dir, "bad.yaml"));
      fail = true;
      fs.writeFileSync(file, doc("cache", "state.redis"));
      await w.check();
      expect(got.length).toBe(2);
      now += 9_000;
      expect(await w.check()).toBe(false);
      expect(got.length).toBe(2);
      fail = false;
      now += 1_000;
      await w.check();
      expect(got.at(-1)).toEqual(["cache:state.redis"]);
      // Opened: no further retry.
      now += 20_000;
      await w.check();
      expect(got.length).toBe(3);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/meshlet_component_reload_total\{result="applied"\} 2/);
      expect(text).toMatch(/meshlet_component_reload_total\{result="rejected"\} 2/);
      // One read per change of the files (four), each handed to both consumers.
      expect(policyReads).toEqual([true, true, true, true]);
    } finally {
      w.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
