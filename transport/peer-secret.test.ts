import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadPeerSecret, sameSecret } from "./peer-secret.ts";
import { BUN, ROOT } from "../test/helpers.ts";

describe("peer secret", () => {
  it("is created once, 0600, and read back the same", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-secret-")), "home", "peer-secret");
    const a = loadPeerSecret(file);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadPeerSecret(file)).toBe(a);
  });

  it("is agreed on by processes that start at the same moment: none reads a half-written file", async () => {
    for (let round = 0; round < 10; round++) {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-secret-")), "peer-secret");
      const script = `import { loadPeerSecret } from ${JSON.stringify(path.join(ROOT, "transport", "peer-secret.ts"))}; process.stdout.write(loadPeerSecret(${JSON.stringify(file)}));`;
      const runs = Array.from({ length: 6 }, () =>
        new Promise<string>((resolve, reject) => {
          const p = spawn(BUN, ["-e", script]);
          let out = "";
          let err = "";
          p.stdout.on("data", (d) => (out += d));
          p.stderr.on("data", (d) => (err += d));
          // 'close', not 'exit': 'exit' can come before the last of stdout has been read.
          p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
        }),
      );
      const secrets = await Promise.all(runs);
      expect(new Set(secrets).size, JSON.stringify(secrets)).toBe(1);
      expect(fs.readdirSync(path.dirname(file))).toEqual(["peer-secret"]);
    }
  });

  it("compares in constant time and exactly", () => {
    expect(sameSecret("abc", "abc")).toBe(true);
    expect(sameSecret("abd", "abc")).toBe(false);
    expect(sameSecret("ab", "abc")).toBe(false);
    expect(sameSecret(null, "abc")).toBe(false);
  });
});
