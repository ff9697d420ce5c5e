// The sentry over real sockets: it signs a CSR the join token covers, refuses a bad, expired or
// foreign token and an identity outside the token's scope (and logs why), and its clients refuse
// a server that is not the sentry and tell an outage (retried) from a refusal (not retried).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { initCa, issueWorkload, loadIssuer } from "../ca.ts";
import { CertError } from "../errors.ts";
import type { Logger } from "../../core/log.ts";
import { newWorkloadKey } from "../pem.ts";
import { inProcessSigner } from "../signer.ts";
import { startSentry, type RunningSentry } from "./server.ts";
import { sentrySource } from "./client.ts";
import { createToken, tokenKey } from "./token.ts";

let dir: string;
let sentry: RunningSentry;
const refusals: Record<string, unknown>[] = [];
const log = {
  debug() {},
  info(msg: string, f?: Record<string, unknown>) {
    if (msg === "refused a certificate request") refusals.push(f ?? {});
  },
  warn() {},
  error() {},
  enabled: () => true,
} as unknown as Logger;

beforeAll(async () => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-sentry-")), "certs");
  await initCa(dir, { trustDomain: "corp" });
  sentry = await startSentry({ dir, host: "127.0.0.1", port: 0, trustDomain: "corp", controlPlaneTrustDomain: "cluster.local", maxTtlMs: 24 * 3_600_000, log });
});
afterAll(() => sentry.close());

function tokenFile(claims: { ns: string; app: string; exp?: number }, key = tokenKey(dir, false)): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tok-")), "token");
  fs.writeFileSync(f, createToken(key, { ns: claims.ns, app: claims.app, exp: claims.exp ?? Math.floor(Date.now() / 1000) + 3600 }), { mode: 0o600 });
  return f;
}

function client(env: Record<string, string>, port = sentry.port) {
  return sentrySource({ address: `127.0.0.1:${port}`, env: { DAPR_TRUST_ANCHORS: fs.readFileSync(path.join(dir, "ca.crt"), "utf8"), ...env }, home: dir });
}

const T = { ttlMs: 3_600_000, skewMs: 900_000 };

describe("meshlet sentry", () => {
  it("signs a CSR covered by the token: the certificate names exactly the identity and chains to the bundle", async () => {
    const src = client({ DAPR_SENTRY_TOKEN_FILE: tokenFile({ ns: "shop", app: "orders-*" }) });
    const id = { trustDomain: "corp", namespace: "shop", appId: "orders-eu" };
    const got = await src.obtain(id, { ...T, now: Date.now() });
    const leaf = new crypto.X509Certificate(got.chainPem);
    expect(leaf.subjectAltName).toBe("URI:spiffe://corp/ns/shop/orders-eu");
    expect(got.notAfter - got.notBefore).toBeGreaterThan(T.ttlMs);
    expect(sentry.counts.signed).toBeGreaterThanOrEqual(1);
  });

  it("refuses a tampered, expired or foreign token, and says so (not retried)", async () => {
    const id = { trustDomain: "corp", namespace: "shop", appId: "orders" };
    const good = fs.readFileSync(tokenFile({ ns: "shop", app: "*" }), "utf8");
    const tampered = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tok-")), "t");
    fs.writeFileSync(tampered, good.replace(/\.([^.]+)\./, (_m, body: string) => `.${Buffer.from(Buffer.from(body, "base64url").toString().replace("shop", "prod")).toString("base64url")}.`));
    const expired = tokenFile({ ns: "shop", app: "*", exp: Math.floor(Date.now() / 1000) - 10 });
    const foreign = tokenFile({ ns: "shop", app: "*" }, crypto.randomBytes(32));
    for (const [file, why] of [
      [tampered, "signature does not verify"],
      [expired, "the token expired"],
      [foreign, "signature does not verify"],
    ] as const) {
      const err = await client({ DAPR_SENTRY_TOKEN_FILE: file }).obtain(id, { ...T, now: Date.now() }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(CertError);
      expect((err as Error).message).toContain("(401)");
      expect((err as Error).message).toContain(why);
    }
    expect(refusals.some((r) => String(r.reason).includes("expired"))).toBe(true);
  });

  it("refuses an identity outside the token's scope, and a CSR that asks for another identity than the request", async () => {
    const file = tokenFile({ ns: "shop", app: "orders-*" });
    for (const id of [
      { trustDomain: "corp", namespace: "shop", appId: "payments" },
      { trustDomain: "corp", namespace: "prod", appId: "orders-eu" },
      { trustDomain: "other", namespace: "shop", appId: "orders-eu" },
    ]) {
      const err = await client({ DAPR_SENTRY_TOKEN_FILE: file }).obtain(id, { ...T, now: Date.now() }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(CertError);
      expect((err as Error).message).toContain("(403)");
    }
    // A request whose CSR names another identity than the one the token admits.
    const key = newWorkloadKey();
    const csr = await inProcessSigner({ op: "csr", keyPem: key.keyPem, id: { trustDomain: "corp", namespace: "shop", appId: "admin" } });
    const token = fs.readFileSync(file, "utf8");
    const body = JSON.stringify({ csr, token, trustDomain: "corp", namespace: "shop", appId: "orders-eu", ttlSeconds: 3600, skewSeconds: 0 });
    const r = await post(sentry.port, body);
    expect(r.status).toBe(403);
    expect(r.text).toContain("the CSR asks for spiffe://corp/ns/shop/admin");
    expect(refusals.some((x) => String(x.reason).includes("the CSR asks for"))).toBe(true);
  });

  it("a client refuses a server that is not the sentry, and reports an outage with the address (retried)", async () => {
    // A server with a valid workload certificate from the same CA, but not the sentry's identity.
    const key = newWorkloadKey();
    const { chainPem } = await issueWorkload(await loadIssuer(dir), key.spkiPem, { trustDomain: "corp", namespace: "shop", appId: "impostor" }, { ...T, now: Date.now() }, inProcessSigner);
    const fake = https.createServer({ cert: chainPem, key: key.keyPem }, (_q, s) => s.end("{}"));
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", () => r()));
    const port = (fake.address() as net.AddressInfo).port;
    const id = { trustDomain: "corp", namespace: "shop", appId: "orders" };
    const tf = tokenFile({ ns: "shop", app: "*" });
    const err = await client({ DAPR_SENTRY_TOKEN_FILE: tf }, port).obtain(id, { ...T, now: Date.now() }).catch((e: Error) => e);
    expect((err as Error).message).toContain("is not the sentry: its certificate names spiffe://corp/ns/shop/impostor");
    fake.close();
    const down = await client({ DAPR_SENTRY_TOKEN_FILE: tf }, port).obtain(id, { ...T, now: Date.now() }).catch((e: Error) => e);
    expect(down).not.toBeInstanceOf(CertError);
    expect((down as Error).message).toContain(`cannot reach the sentry at 127.0.0.1:${port}`);
  });

  it("needs a token and trust anchors, and says where to get them", () => {
    expect(() => sentrySource({ address: "127.0.0.1:1", env: { DAPR_TRUST_ANCHORS: "x" }, home: dir })).toThrow(/join token: set DAPR_SENTRY_TOKEN_FILE/);
    expect(() => sentrySource({ address: "127.0.0.1:1", env: { MESHLET_SENTRY_TOKEN: "t" }, home: path.join(os.tmpdir(), "nowhere") })).toThrow(/no trust anchors to verify the sentry/);
  });
});

function post(port: number, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, path: "/v1/sign", method: "POST", rejectUnauthorized: false }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
