// state.in-memory against the store contract every store runs.

import { describe, it } from "vitest";
import { STORE_CONTRACT } from "./contract.ts";
import { MemoryStore } from "./memory-store.ts";

describe("state.in-memory: the store contract", () => {
  for (const [name, check] of STORE_CONTRACT) {
    it(name, async () => {
      let now = 1_700_000_000_000;
      const store = new MemoryStore(() => now);
      await check({ store, advance: (ms) => void (now += ms) });
      await store.close();
    });
  }
});
