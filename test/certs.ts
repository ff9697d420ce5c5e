// Certificates for tests, made with meshlet's own CA code: a CA in a temp directory, workload
// certificates for any identity and any dates (expired, not yet valid), and Dapr's variables
// that hand the issuer to sidecars that do not share a MESHLET_HOME.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { initCa, issueWorkload, loadIssuer } from "../security/ca.ts";
import { newWorkloadKey } from "../security/pem.ts";
import { inProcessSigner } from "../security/signer.ts";
import type { SpiffeId } from "../security/spiffe.ts";

export interface TestCa {
  readonly dir: string;
  readonly trustPem: string;
  /** DAPR_TRUST_ANCHORS / DAPR_CERT_CHAIN / DAPR_CERT_KEY with this CA's issuer. */
  readonly env: Record<string, string>;
  /** A workload chain and key for `id`, valid from `from` for `ttlMs` (defaults: now, 1 h). */
  issue(id: SpiffeId | string, o?: { from?: number; ttlMs?: number }): Promise<{ chainPem: string; keyPem: string }>;
}

export async function testCa(o: { dir?: string; trustDomain?: string } = {}): Promise<TestCa> {
  const dir = o.dir ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-ca-")), "certs");
  if (!fs.existsSync(path.join(dir, "ca.crt"))) await initCa(dir, { trustDomain: o.trustDomain });
  const issuer = await loadIssuer(dir);
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  return {
    dir,
    trustPem: issuer.trustPem,
    env: { DAPR_TRUST_ANCHORS: read("ca.crt"), DAPR_CERT_CHAIN: read("issuer.crt"), DAPR_CERT_KEY: read("issuer.key") },
    async issue(id, t = {}) {
      const sid = typeof id === "string" ? { trustDomain: "public", namespace: "default", appId: id } : id;
      const key = newWorkloadKey();
      const { chainPem } = await issueWorkload(issuer, key.spkiPem, sid, { ttlMs: t.ttlMs ?? 3_600_000, skewMs: 0, now: t.from ?? Date.now() }, inProcessSigner);
      return { chainPem, keyPem: key.keyPem };
    },
  };
}
