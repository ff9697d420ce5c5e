// A policy set crossing to and from the reload worker (structured clone) comes back whole and
// frozen, the meshlet extensions' nested blocks included.

import { describe, expect, it } from "vitest";
import { fromData, toData } from "./transfer.ts";
import { mergeDocs } from "./load.ts";
import { parseResiliencyText } from "./parse.ts";

const TEXT = `kind: Resiliency
spec:
  targets:
    apps:
      cart:
        outlierDetection: {consecutiveFailures: 3}
        hedge: {delay: p95}
        loadBalancer: {consistentHash: {httpHeaderName: x-user-id}, warmupDurationSecs: 30s}
`;

describe("policy transfer", () => {
  it("brings a target's outlierDetection, hedge and loadBalancer back equal and frozen", () => {
    const set = mergeDocs(parseResiliencyText(TEXT, "p.yaml").docs, null);
    const back = fromData(structuredClone(toData(set)));
    const cart = back.apps.get("cart")!;
    expect(cart).toEqual(set.apps.get("cart"));
    for (const block of [cart, cart.outlierDetection, cart.hedge, cart.loadBalancer]) expect(Object.isFrozen(block)).toBe(true);
  });
});
