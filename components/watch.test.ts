// The component watcher on real files and a fake clock: a change is handed over once, an edit
// that leaves this app's components as they were is not, a broken file is refused, and a change
// whose stores could not open is tried again after 10 s without another edit.

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { silentLogger } from "../core/log.ts";
import { Metrics } from "../core/metrics.ts";
import type { ComponentSpec } from "../config/configuration.ts";
import { watchComponents } from "./watch.ts";

const doc = (name: string, type: string) => `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec: {type: ${type}, version: v1}\n`;

describe("watchComponents", () => {
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
    const w = watchComponents({ paths: [dir], appId: "me", log: silentLogger, metrics, live, initial, pollMs: 3_600_000, now: () => now, inProcess: true });
    try {
      expect(await w.check()).toBe(false);
      // A Resiliency document beside it changes the files, not the components: nothing to swap.
      fs.writeFileSync(path.join(dir, "r.yaml"), "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec: {policies: {}}\n");
      expect(await w.check()).toBe(false);
      expect(got).toEqual([]);
      fs.appendFileSync(file, "---\n" + doc("orders", "state.sqlite"));
      expect(await w.check()).toBe(true);
      expect(got).toEqual([["cache:state.in-memory", "orders:state.sqlite"]]);
      fs.writeFileSync(path.join(dir, "bad.yaml"), "kind: Component\nmetadata: {}\n");
      expect(await w.check()).toBe(false);
      expect(got.length).toBe(1);
      fs.rmSync(path.join(dir, "bad.yaml"));
      fail = true;
      fs.writeFileSync(file, doc("cache", "state.redis"));
      expect(await w.check()).toBe(false);
      expect(got.length).toBe(2);
      now += 9_000;
      expect(await w.check()).toBe(false);
      expect(got.length).toBe(2);
      fail = false;
      now += 1_000;
      expect(await w.check()).toBe(true);
      expect(got.at(-1)).toEqual(["cache:state.redis"]);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/meshlet_component_reload_total\{result="applied"\} 2/);
      expect(text).toMatch(/meshlet_component_reload_total\{result="rejected"\} 2/);
    } finally {
      w.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
