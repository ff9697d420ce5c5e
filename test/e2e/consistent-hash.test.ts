// Consistent hashing on a header end to end: three instances of `cart`, the caller's Resiliency
// target hashing on x-user-id. Each user's calls reach one instance, users spread over them, and
// calls without the header are still balanced by load.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { killAll, startSidecar, tempHome, type Sidecar } from "../helpers.ts";

const POLICY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: sticky
spec:
  targets:
    apps:
      cart:
        loadBalancer:
          consistentHash:
            httpHeaderName: x-user-id
`;

let caller: Sidecar;

beforeAll(async () => {
  const home = tempHome();
  const resources = fs.mkdtempSync(path.join(home, "resources-"));
  fs.writeFileSync(path.join(resources, "resiliency.yaml"), POLICY);
  for (let i = 0; i < 3; i++) await startSidecar({ appId: "cart", home, echo: true });
  caller = await startSidecar({ appId: "shop", home, args: ["--resources-path", resources] });
});
afterAll(killAll);

/** The app port that answered a call. */
async function where(user: string | null): Promise<number> {
  const r = await fetch(`${caller.url}/v1.0/invoke/cart/method/where`, { headers: user ? { "x-user-id": user } : {} });
  expect(r.status).toBe(200);
  return ((await r.json()) as { port: number }).port;
}

describe("consistent hashing on x-user-id", () => {
  it("sends each user's calls to one instance, users over several, and other calls by load", async () => {
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const homes = new Map<string, Set<number>>();
    for (let round = 0; round < 4; round++) {
      for (const u of users) {
        const port = await where(u);
        if (!homes.has(u)) homes.set(u, new Set());
        homes.get(u)!.add(port);
      }
    }
    for (const u of users) expect(homes.get(u)!.size).toBe(1);
    expect(new Set(users.map((u) => [...homes.get(u)!][0])).size).toBeGreaterThan(1);
    const unhashed = new Set<number>();
    for (let i = 0; i < 60; i++) unhashed.add(await where(null));
    // Latency-aware balancing as usual: the best two of three take nearly all sequential calls.
    expect(unhashed.size).toBeGreaterThan(1);
  });

  it("says so in explain", async () => {
    const text = await (await fetch(`${caller.url}/v1.0-meshlet/explain?appId=cart&method=where&verb=GET`)).text();
    expect(text).toMatch(/endpoint: resolved per attempt; a request with x-user-id goes to the instance its value hashes to .*\[target apps\.cart\.loadBalancer \(.*resiliency\.yaml:\d+\)\]/);
  });
});
