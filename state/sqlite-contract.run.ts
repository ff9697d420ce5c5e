// Runs the store contract against state.sqlite under Bun (bun:sqlite does not exist under Node,
// where vitest runs): one fresh database file per check, results as one JSON line.
//   bun state/sqlite-contract.run.ts <dir>

import path from "node:path";
import { STORE_CONTRACT } from "./contract.ts";
import { SqliteStore } from "./sqlite-store.ts";

const dir = process.argv[2]!;
const results: Array<{ name: string; error: string | null }> = [];
let i = 0;
for (const [name, check] of STORE_CONTRACT) {
  let now = 1_700_000_000_000;
  const store = await SqliteStore.open({ file: path.join(dir, `contract-${i++}.db`), now: () => now, cleanupIntervalMs: 0 });
  try {
    await check({ store, advance: (ms) => void (now += ms) });
    results.push({ name, error: null });
  } catch (e) {
    results.push({ name, error: (e as Error).stack ?? String(e) });
  } finally {
    await store.close();
  }
}
console.log(JSON.stringify(results));
