// Workload certificates signed in-process by an issuer: the files of a local CA (one host, or
// network namespaces sharing $MESHLET_HOME), read again at every renewal so a new issuer or trust
// bundle written there is used at once (the poll notices it); or an issuer given as PEM text.

import path from "node:path";
import { CA_FILES, type Issuer, issueWorkload, loadIssuer } from "../ca.ts";
import { checkMaterial } from "../material.ts";
import { newWorkloadKey } from "../pem.ts";
import type { IdentitySource } from "../identity.ts";
import { fileStamp } from "../../core/file-stamp.ts";

/** Signs with whatever issuer `load` returns now. */
export function issuerSource(describe: string, load: (now: number) => Promise<Issuer>, stamp?: () => string): IdentitySource {
  return {
    describe,
    renews: true,
    stamp,
    async obtain(id, o) {
      const issuer = await load(o.now);
      // The key lives in this process only; the signer sees the public half.
      const key = newWorkloadKey();
      const { chainPem } = await issueWorkload(issuer, key.spkiPem, id, o);
      return checkMaterial(chainPem, key.keyPem, issuer.trustPem, id, describe, o.now);
    },
  };
}

export function localIssuerSource(dir: string): IdentitySource {
  const files = [CA_FILES.trust, CA_FILES.issuer, CA_FILES.issuerKey].map((f) => path.join(dir, f));
  return issuerSource(`local issuer in ${dir}`, (now) => loadIssuer(dir, now), () => fileStamp(files));
}
