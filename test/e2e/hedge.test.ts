// Hedged reads end to end: the callee's app stalls the first request for a key (as an instance in
// a GC pause would); with `hedge: {delay: 100ms}` on the target the caller's sidecar sends a
// second attempt, whose answer the client gets, while a POST is never hedged.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { killAll, scrapeMetrics, seriesValues, startSidecar, tempHome, type Sidecar } from "../helpers.ts";

const POLICY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: reads
spec:
  targets:
    apps:
      inv:
        hedge:
          delay: 100ms
`;

let caller: Sidecar;
let inv: Sidecar;

beforeAll(async () => {
  const home = tempHome();
  const resources = fs.mkdtempSync(path.join(home, "resources-"));
  fs.writeFileSync(path.join(resources, "resiliency.yaml"), POLICY);
  inv = await startSidecar({ appId: "inv", home, echo: true });
  caller = await startSidecar({ appId: "shop", home, args: ["--resources-path", resources] });
});
afterAll(killAll);

const arrivals = async (key: string) =>
  ((await (await fetch(`http://127.0.0.1:${inv.appPort}/count?key=hedge:${key}`)).json()) as { attempts: number }).attempts;

describe("hedged reads", () => {
  it("answers a stalled GET from the hedge sent after the delay", async () => {
    const r = await fetch(`${caller.url}/v1.0/invoke/inv/method/hedge?key=get-1`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ arrival: 2 });
    expect(await arrivals("get-1")).toBe(2);
  });

  it("never hedges a POST: it waits for its only attempt", async () => {
    const r = await fetch(`${caller.url}/v1.0/invoke/inv/method/hedge?key=post-1&ms=300`, { method: "POST", body: "{}" });
    expect(await r.json()).toEqual({ arrival: 1 });
    expect(await arrivals("post-1")).toBe(1);
  });

  it("counts hedges sent and won, and explain shows the step", async () => {
    const text = await scrapeMetrics(caller);
    const count = (outcome: string) => seriesValues(text, `meshlet_hedges_total{target="inv",outcome="${outcome}"}`)[0] ?? 0;
    expect(count("sent")).toBe(1);
    expect(count("won")).toBe(1);
    const explain = await (await fetch(`${caller.url}/v1.0-meshlet/explain?appId=inv&method=hedge&verb=GET`)).text();
    expect(explain).toMatch(/\d\. hedge: a read \(GET, HEAD, OPTIONS\) still without headers after 100ms gets a second attempt .*a GET is hedged {2}\[target apps\.inv\.hedge \(.*resiliency\.yaml:\d+\)\]/);
  });
});
