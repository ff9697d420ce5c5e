// The local CA's files: created once (never overwritten, one winner when sidecars start at once),
// keys private, and every way an issuer or a workload's material can be wrong refused with a
// one-line error that names the file.

import { describe, expect, it } from "vitest";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CA_FILES, ensureCa, initCa, issueWorkload, loadIssuer } from "./ca.ts";
import { checkMaterial } from "./material.ts";
import { newWorkloadKey } from "./pem.ts";
import { inProcessSigner } from "./signer.ts";

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-ca-")), "certs");
const ID = { trustDomain: "public", namespace: "default", appId: "orders" };

async function workload(dir: string, id = ID, o: { ttlMs?: number; now?: number } = {}) {
  const key = newWorkloadKey();
  const issuer = await loadIssuer(dir);
  const { chainPem } = await issueWorkload(issuer, key.spkiPem, id, { ttlMs: o.ttlMs ?? 3_600_000, skewMs: 900_000, now: o.now ?? Date.now() }, inProcessSigner);
  return { chainPem, keyPem: key.keyPem, trustPem: issuer.trustPem };
}

describe("the local CA", () => {
  it("creates a root and an issuer, keys 0600, and never overwrites them", async () => {
    const dir = tmp();
    await initCa(dir, { trustDomain: "edge.local" });
    for (const f of [CA_FILES.issuerKey, CA_FILES.rootKey]) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const before = fs.readFileSync(path.join(dir, CA_FILES.trust), "utf8");
    await expect(initCa(dir)).rejects.toThrow(/already holds a CA .*never overwritten/);
    expect(fs.readFileSync(path.join(dir, CA_FILES.trust), "utf8")).toBe(before);
    const issuer = await loadIssuer(dir);
    expect(issuer.trustDomain).toBe("edge.local");
    const root = new crypto.X509Certificate(before);
    const cert = new crypto.X509Certificate(issuer.certPem);
    expect([root.ca, cert.ca, cert.verify(root.publicKey)]).toEqual([true, true, true]);
    expect((cert.publicKey.asymmetricKeyDetails as { namedCurve?: string }).namedCurve).toBe("prime256v1");
  });

  it("agrees on one CA when several sidecars create it at once", async () => {
    const dir = tmp();
    const issuers = await Promise.all([1, 2, 3, 4].map(() => ensureCa(dir, "public", inProcessSigner)));
    expect(new Set(issuers.map((i) => i.certPem)).size).toBe(1);
    expect(fs.readdirSync(path.dirname(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("issues workload certificates: SPIFFE URI SAN, both key usages, backdated by the skew, never past the issuer", async () => {
    const dir = tmp();
    await initCa(dir, { issuerTtlMs: 2 * 3_600_000 });
    const now = Date.now();
    const w = await workload(dir, ID, { ttlMs: 24 * 3_600_000, now });
    const leaf = new crypto.X509Certificate(w.chainPem);
    expect(leaf.subjectAltName).toBe("URI:spiffe://public/ns/default/orders");
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toEqual(expect.arrayContaining(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]));
    expect(Math.abs(Date.parse(leaf.validFrom) - (now - 900_000))).toBeLessThan(2000);
    const issuer = await loadIssuer(dir);
    expect(Date.parse(leaf.validTo)).toBeLessThanOrEqual(issuer.notAfter);
    const m = checkMaterial(w.chainPem, w.keyPem, w.trustPem, ID, "test");
    expect(m.issuerName).toContain("meshlet issuer");
  });

  it("refuses a broken issuer with a one-line error naming the file", async () => {
    const dir = tmp();
    await initCa(dir);
    const other = tmp();
    await initCa(other);
    const keyFile = path.join(dir, CA_FILES.issuerKey);
    fs.copyFileSync(path.join(other, CA_FILES.issuerKey), keyFile);
    await expect(loadIssuer(dir)).rejects.toThrow(`${keyFile} is not the key of ${path.join(dir, CA_FILES.issuer)}`);
    fs.copyFileSync(path.join(other, CA_FILES.issuerKey), keyFile);
    fs.copyFileSync(path.join(other, CA_FILES.issuer), path.join(dir, CA_FILES.issuer));
    await expect(loadIssuer(dir)).rejects.toThrow(/is not signed by any root in .*ca\.crt/);
    fs.writeFileSync(path.join(dir, CA_FILES.trust), "not a certificate\n");
    await expect(loadIssuer(dir)).rejects.toThrow(/ca\.crt: no PEM certificate in it/);
    fs.rmSync(path.join(dir, CA_FILES.issuer));
    await expect(loadIssuer(dir)).rejects.toThrow(/issuer\.crt: cannot read the issuer certificate: ENOENT/);
  });

  it("checks workload material before use: matching key, the expected id, a chain to the bundle, in date", async () => {
    const dir = tmp();
    await initCa(dir);
    const a = await workload(dir);
    const b = await workload(dir, { ...ID, appId: "payments" });
    expect(() => checkMaterial(a.chainPem, b.keyPem, a.trustPem, ID, "files")).toThrow("files: the private key is not the certificate's key");
    expect(() => checkMaterial(b.chainPem, b.keyPem, b.trustPem, ID, "files")).toThrow("names spiffe://public/ns/default/payments, this sidecar is spiffe://public/ns/default/orders");
    const other = tmp();
    await initCa(other);
    expect(() => checkMaterial(a.chainPem, a.keyPem, fs.readFileSync(path.join(other, CA_FILES.trust), "utf8"), ID, "files")).toThrow("does not lead to any root of the trust bundle");
    const old = await workload(dir, ID, { now: Date.now() - 3 * 3_600_000, ttlMs: 3_600_000 });
    expect(() => checkMaterial(old.chainPem, old.keyPem, old.trustPem, ID, "files")).toThrow(/certificate 1 of the chain expired on/);
  });
});
