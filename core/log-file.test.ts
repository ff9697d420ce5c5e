// The on-disk log: private, appended, rotated by size with a bounded number of old files.

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openLogFile } from "./log-file.ts";

describe("a sidecar's log file", () => {
  it("is 0600 in a 0700 directory, rotates past its size and keeps the newest files", async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-logs-")), "logs");
    const file = path.join(dir, "orders.log");
    const f = openLogFile(file, 1000, 2);
    for (let i = 0; i < 50; i++) f.write(`line ${String(i).padStart(3, "0")} ${"x".repeat(80)}`);
    f.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual(["orders.log", "orders.log.1", "orders.log.2"]);
    for (const name of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, name)).size).toBeLessThanOrEqual(1000);
    const last = fs.readFileSync(file, "utf8").trim().split("\n");
    expect(last[last.length - 1]).toMatch(/^line 049 /);
    expect(fs.readFileSync(`${file}.1`, "utf8")).toMatch(/line 0[34]\d /);
  });
});
