// `meshlet certs` helpers: the summary doctor and `certs show` print warns under 30 days, and an
// exported issuer directory imported elsewhere is a working issuer.

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { caSummary, certsCommand } from "./certs.ts";
import { initCa, loadIssuer } from "../security/ca.ts";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-certs-"));

describe("meshlet certs", () => {
  it("warns about an issuer that expires within 30 days, and about keys others can read", async () => {
    const dir = path.join(tmp(), "certs");
    await initCa(dir, { issuerTtlMs: 10 * 86_400_000 });
    const lines = caSummary(dir)!.join("\n");
    expect(lines).toMatch(/issuer {2}CN=meshlet issuer public .*WARNING: expires in 9 days/);
    expect(lines).not.toMatch(/root .*WARNING/);
    fs.chmodSync(path.join(dir, "issuer.key"), 0o644);
    expect(caSummary(dir)!.join("\n")).toMatch(/issuer\.key +mode 644 {2}WARNING: readable by others/);
    expect(caSummary(path.join(tmp(), "none"))).toBeNull();
  });

  it("exports the issuer to a private directory that another host imports as a working issuer", async () => {
    const dir = path.join(tmp(), "certs");
    await initCa(dir);
    const out = path.join(tmp(), "exported");
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await certsCommand(["export", "--dir", dir, "--with-issuer", "--out", out])).toBe(0);
      expect(fs.statSync(out).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(out, "issuer.key")).mode & 0o777).toBe(0o600);
      const other = path.join(tmp(), "certs");
      expect(await certsCommand(["import", "--dir", other, out])).toBe(0);
      const issuer = await loadIssuer(other);
      expect(issuer.certPem).toBe(fs.readFileSync(path.join(dir, "issuer.crt"), "utf8"));
      // A different issuer already there is never overwritten.
      const third = path.join(tmp(), "certs");
      await initCa(third);
      const before = fs.readFileSync(path.join(third, "ca.crt"), "utf8");
      await expect(certsCommand(["import", "--dir", third, out])).rejects.toThrow(/already holds another issuer; it is never overwritten/);
      expect(fs.readFileSync(path.join(third, "ca.crt"), "utf8")).toBe(before);
    } finally {
      process.stdout.write = write;
    }
  });
});
