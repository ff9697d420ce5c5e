// Workload certificates that someone else writes and renews: cert-manager's Secret layout
// (tls.crt, tls.key, ca.crt), SPIRE's helper (svid.pem, svid_key.pem, bundle.pem), or Dapr's
// DAPR_CERT_CHAIN / DAPR_CERT_KEY / DAPR_TRUST_ANCHORS variables (PEM text). Files are watched and
// swapped live once they check out together; variables are fixed for the life of the process.

import fs from "node:fs";
import path from "node:path";
import { CertError, issuerFromPem, parseCerts, readCertFile } from "../ca.ts";
import { issuerSource } from "./local.ts";
import { checkMaterial } from "../material.ts";
import type { IdentitySource } from "../identity.ts";
import { fileStamp } from "../../core/file-stamp.ts";

const LAYOUTS = [
  { chain: "tls.crt", key: "tls.key", trust: "ca.crt", by: "cert-manager" },
  { chain: "svid.pem", key: "svid_key.pem", trust: "bundle.pem", by: "SPIRE helper" },
] as const;

/** The layout in `dir`, by which chain file exists; one-line error when there is none. */
function layoutIn(dir: string) {
  const found = LAYOUTS.find((l) => fs.existsSync(path.join(dir, l.chain)));
  if (!found) throw new CertError(`${dir}: holds neither tls.crt/tls.key/ca.crt (cert-manager) nor svid.pem/svid_key.pem/bundle.pem (SPIRE)`);
  return found;
}

export function certDirSource(dir: string, trustOverride?: string): IdentitySource {
  const l = layoutIn(dir);
  const files = [l.chain, l.key, l.trust].map((f) => path.join(dir, f));
  return {
    describe: `${l.by} files in ${dir}`,
    renews: false,
    stamp: () => fileStamp(files),
    async obtain(id, o) {
      const [chain, key] = [readCertFile(files[0]!, "certificate chain"), readCertFile(files[1]!, "private key")];
      const trust = trustOverride ?? readCertFile(files[2]!, "trust bundle");
      return checkMaterial(chain, key, trust, id, dir, o.now);
    },
  };
}

/**
 * Dapr's variables (PEM text): DAPR_TRUST_ANCHORS, and DAPR_CERT_CHAIN with DAPR_CERT_KEY. As in
 * Dapr's self-hosted guide these may hold the issuer (ca.crt, issuer.crt, issuer.key exported from
 * the CA directory): then this sidecar signs its own workload certificates with it. A workload
 * certificate (not a CA) is used as it is.
 */
export function daprEnvSource(env: NodeJS.ProcessEnv): IdentitySource | null {
  const chain = env.DAPR_CERT_CHAIN;
  const key = env.DAPR_CERT_KEY;
  if (!chain && !key) return null;
  if (!chain || !key) throw new CertError("DAPR_CERT_CHAIN and DAPR_CERT_KEY must be set together");
  const trust = env.DAPR_TRUST_ANCHORS;
  if (!trust) throw new CertError("DAPR_CERT_CHAIN is set but DAPR_TRUST_ANCHORS is not: the trust anchors are needed to verify peers");
  const [first] = parseCerts(chain, "DAPR_CERT_CHAIN");
  if (first!.ca) {
    return issuerSource("issuer in DAPR_CERT_CHAIN / DAPR_CERT_KEY", (now) =>
      issuerFromPem({ pem: chain, where: "DAPR_CERT_CHAIN" }, { pem: key, where: "DAPR_CERT_KEY" }, { pem: trust, where: "DAPR_TRUST_ANCHORS" }, { dir: "(environment)", trustDomain: "public", now }),
    );
  }
  return {
    describe: "workload certificate in DAPR_CERT_CHAIN / DAPR_CERT_KEY",
    renews: false,
    async obtain(id, o) {
      return checkMaterial(chain, key, trust, id, "DAPR_CERT_CHAIN", o.now);
    },
  };
}
