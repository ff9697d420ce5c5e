// Seeded property-based fuzzing of the YAML loaders: Resiliency documents built from real field
// names with wrong, missing, odd and hostile values (aliases, duplicates, deep nesting), and raw
// text. Every outcome is a policy or a rejection whose every problem is `file:line: ...`; the
// Configuration loader likewise ends in a result or a ConfigError naming the file.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mergeDocs } from "./load.ts";
import { parseResiliencyText, ResiliencyError } from "./parse.ts";
import { loadConfiguration } from "../../config/configuration.ts";
import { ConfigError } from "../../config/errors.ts";

const SEED = 30_11_2026;

const scalar = fc.oneof(
  fc.constantFrom("5s", "1m30s", "-1s", "0", "abc", "1h", "100ms", "'quoted'", '"x"', "null", "~", "true", "3", "-7", "1e309", "0x10", "[]", "{}", "*missing"),
  fc.stringMatching(/^[a-zA-Z0-9 ._-]{0,12}$/),
  fc.integer({ min: -5, max: 100 }).map(String),
);

const field = fc.constantFrom(
  "policy", "duration", "maxRetries", "maxInterval", "initialInterval", "multiplier", "randomizationFactor", "maxElapsedTime",
  "matching", "httpStatusCodes", "gRPCStatusCodes", "retryNonIdempotent", "maxRequests", "interval", "timeout", "trip",
  "retry", "circuitBreaker", "circuitBreakerCacheSize", "deadline", "hedge", "delay", "maxHedges", "unknownField",
);

/** A YAML value written at `indent`, some of them nested mappings or lists. */
function value(depth: number): fc.Arbitrary<(indent: string) => string> {
  const leaf = scalar.map((s) => () => ` ${s}`);
  if (depth === 0) return leaf;
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(fc.tuple(field, value(depth - 1)), { maxLength: 4 }).map((kv) => (indent: string) => kv.map(([k, v]) => `\n${indent}  ${k}:${v(indent + "  ")}`).join("") || " {}") },
    { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }).map((xs) => () => ` [${xs.join(", ")}]`) },
  );
}

const named = (depth: number) =>
  fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), value(depth)), { maxLength: 4 }).map(
    (kv) => (indent: string) => kv.map(([k, v]) => `\n${indent}${k}:${v(indent)}`).join("") || " {}",
  );

/** Fields of one kind of policy, mostly with values of the right type, sometimes not. */
function policyOf(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<(indent: string) => string> {
  const entries = Object.entries(fields).map(([k, good]) =>
    fc.option(fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: scalar }).map((v) => [k, v] as const), { freq: 2 }),
  );
  return fc.tuple(...entries).map((kv) => (indent: string) => kv.filter((x) => x !== null).map(([k, v]) => `\n${indent}  ${k}: ${v}`).join("") || " {}");
}

const duration = fc.constantFrom("5s", "100ms", "1m", "2s");
const retryPolicy = policyOf({
  policy: fc.constantFrom("constant", "exponential"),
  duration,
  maxRetries: fc.constantFrom("3", "-1", "0"),
  maxInterval: duration,
  matching: fc.constantFrom("{httpStatusCodes: '500-599'}", "{httpStatusCodes: '429,503'}"),
});
const breakerPolicy = policyOf({
  maxRequests: fc.constantFrom("1", "3"),
  interval: duration,
  timeout: duration,
  trip: fc.constantFrom("consecutiveFailures > 3", "requests > 10 && totalFailures > 5"),
});
const namedOf = (p: fc.Arbitrary<(indent: string) => string>) =>
  fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), p), { maxLength: 3 }).map(
    (kv) => (indent: string) => kv.map(([k, v]) => `\n${indent}${k}:${v(indent)}`).join("") || " {}",
  );

const resiliencyDoc = fc
  .record({
    timeouts: fc.oneof(named(0), fc.constant((indent: string) => `\n${indent}t: 5s`)),
    retries: fc.oneof(named(2), namedOf(retryPolicy)),
    breakers: fc.oneof(named(2), namedOf(breakerPolicy)),
    apps: fc.oneof(named(2), fc.constant((indent: string) => `\n${indent}orders:\n${indent}  timeout: t`)),
    scopes: fc.option(fc.array(fc.stringMatching(/^[a-z]{1,5}$/), { maxLength: 3 })),
    extra: fc.constantFrom("", "", "", "", "\nbogus: 1", "\nspec2: {}", "\n  policies: dup", "\nanchor: &a [1, 2]\nuse: *a", "\n\t tab"),
  })
  .map(
    (r) =>
      `apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: fuzz\n` +
      (r.scopes ? `scopes: [${r.scopes.join(", ")}]\n` : "") +
      `spec:\n  policies:\n    timeouts:${r.timeouts("      ")}\n    retries:${r.retries("      ")}\n    circuitBreakers:${r.breakers("      ")}\n  targets:\n    apps:${r.apps("      ")}${r.extra}\n`,
  );

const LOCATED = /^f\.yaml:\d+: \S/;

describe("Resiliency loader fuzzing", () => {
  it("accepts or rejects every generated document, each problem with file:line", () => {
    let cases = 0;
    let rejected = 0;
    fc.assert(
      fc.property(resiliencyDoc, (text) => {
        cases++;
        const { docs, problems } = parseResiliencyText(text, "f.yaml");
        for (const p of problems) expect(p).toMatch(LOCATED);
        if (problems.length) rejected++;
        try {
          mergeDocs(docs, "a");
        } catch (e) {
          expect(e).toBeInstanceOf(ResiliencyError);
          for (const p of (e as ResiliencyError).problems) expect(p).toMatch(LOCATED);
        }
      }),
      { seed: SEED, numRuns: 1500 },
    );
    console.log(`resiliency fuzz: ${cases} documents, ${rejected} rejected`);
    // Both outcomes were exercised.
    expect(rejected).toBeGreaterThan(0);
    expect(rejected).toBeLessThan(cases);
  });

  it("never throws anything but located problems on arbitrary text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), resiliencyDoc.chain((d) => fc.integer({ min: 0, max: d.length }).map((n) => d.slice(0, n) + "\n" + d.slice(n + 3)))), (text) => {
        const { problems } = parseResiliencyText(`kind: Resiliency\n${text}`, "f.yaml");
        for (const p of problems) expect(p).toMatch(LOCATED);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });
});

describe("Configuration loader fuzzing", () => {
  it("returns a configuration or a ConfigError naming the file (and line when there is one)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-fuzz-"));
    const file = path.join(dir, "c.yaml");
    const body = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.record({ comp: scalar, conf: value(2) }).map((r) => `kind: Configuration\nspec:\n  nameResolution:\n    component:${` ${r.comp}`}\n    configuration:${r.conf("      ")}\n`),
      fc.constantFrom("kind: Configuration\na: &a [*a]\n", "kind: Configuration\nk: 1\nk: 2\n", "kind: Configuration\nspec: [1, 2\n"),
    );
    try {
      fc.assert(
        fc.property(body, (text) => {
          fs.writeFileSync(file, text);
          try {
            loadConfiguration(file);
          } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            expect((e as Error).message.startsWith(`${file}:`)).toBe(true);
          }
        }),
        { seed: SEED, numRuns: 800 },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
