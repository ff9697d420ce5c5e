// Circuit-breaker trip expressions: Dapr's CEL over five integer counters, compiled once at
// load with a CEL library and type-checked to be a boolean. Evaluation only reads counters.

import { Environment } from "@marcbachmann/cel-js";
import type { BreakerCounts } from "./policy/types.ts";

const VARS = ["requests", "totalSuccesses", "totalFailures", "consecutiveSuccesses", "consecutiveFailures"] as const;

const env = new Environment();
for (const v of VARS) env.registerVariable(v, "int");

/** Compiles `expr`; throws with a one-line reason when it does not parse or is not a bool. */
export function compileTrip(expr: string): (c: BreakerCounts) => boolean {
  let checked: { valid: boolean; type?: string; error?: Error };
  try {
    checked = env.check(expr) as typeof checked;
  } catch (e) {
    throw new Error(`invalid trip expression "${expr}": ${firstLine(e)}`);
  }
  if (!checked.valid) throw new Error(`invalid trip expression "${expr}": ${firstLine(checked.error)}`);
  if (checked.type !== "bool") throw new Error(`trip expression "${expr}" must be a boolean, not ${checked.type}`);
  const fn = env.parse(expr);
  return (c) =>
    fn({
      requests: BigInt(c.requests),
      totalSuccesses: BigInt(c.totalSuccesses),
      totalFailures: BigInt(c.totalFailures),
      consecutiveSuccesses: BigInt(c.consecutiveSuccesses),
      consecutiveFailures: BigInt(c.consecutiveFailures),
    }) === true;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split("\n")[0]!;
}
