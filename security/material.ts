// Checks a workload's certificate material before it is used: the key is the leaf's, the leaf
// carries the expected SPIFFE id, the chain leads to a root in the trust bundle, and every link is
// in date. One-line errors name what is wrong, so a bad file is refused before anything is swapped.

import crypto from "node:crypto";
import { CertError, parseCerts } from "./ca.ts";
import { formatSpiffe, type SpiffeId, spiffeFromAltNames } from "./spiffe.ts";

export interface Issued {
  /** Leaf first, then intermediates. */
  readonly chainPem: string;
  readonly keyPem: string;
  readonly trustPem: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** The earliest expiry among the chain's CA certificates, and among the trust bundle's roots. */
  readonly issuerNotAfter: number;
  readonly rootsNotAfter: number;
  /** Subject of the certificate that signed the leaf, for doctor. */
  readonly issuerName: string;
}

const time = (s: string) => Date.parse(s);

/** Verifies `chainPem` + `keyPem` against `trustPem` for `id`; `where` names their origin in errors. */
export function checkMaterial(chainPem: string, keyPem: string, trustPem: string, id: SpiffeId | null, where: string, now = Date.now()): Issued {
  const chain = parseCerts(chainPem, `${where} (certificate chain)`);
  const roots = parseCerts(trustPem, `${where} (trust bundle)`);
  const leaf = chain[0]!;
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(keyPem);
  } catch (e) {
    throw new CertError(`${where}: the private key does not parse: ${(e as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new CertError(`${where}: the private key is not the certificate's key`);
  const got = spiffeFromAltNames(leaf.subjectAltName);
  if (!got) throw new CertError(`${where}: the certificate carries no single SPIFFE id (URI SAN)`);
  if (id && (got.appId !== id.appId || got.namespace !== id.namespace || got.trustDomain !== id.trustDomain)) {
    throw new CertError(`${where}: the certificate names ${formatSpiffe(got)}, this sidecar is ${formatSpiffe(id)}`);
  }
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    if (time(c.validTo) <= now) throw new CertError(`${where}: certificate ${i + 1} of the chain expired on ${new Date(time(c.validTo)).toISOString()}`);
    if (time(c.validFrom) > now) throw new CertError(`${where}: certificate ${i + 1} of the chain is not valid before ${new Date(time(c.validFrom)).toISOString()}`);
    const parent = chain[i + 1];
    if (parent && !(c.checkIssued(parent) && c.verify(parent.publicKey))) throw new CertError(`${where}: certificate ${i + 1} of the chain is not signed by certificate ${i + 2}`);
  }
  const top = chain[chain.length - 1]!;
  const anchored = roots.some((r) => (top.fingerprint256 === r.fingerprint256 ? true : top.checkIssued(r) && top.verify(r.publicKey)));
  if (!anchored) throw new CertError(`${where}: the chain does not lead to any root of the trust bundle`);
  const cas = chain.slice(1);
  const signer = chain[1] ?? roots.find((r) => leaf.checkIssued(r));
  return {
    chainPem,
    keyPem,
    trustPem,
    notBefore: time(leaf.validFrom),
    notAfter: time(leaf.validTo),
    issuerNotAfter: cas.length ? Math.min(...cas.map((c) => time(c.validTo))) : Math.min(...roots.map((r) => time(r.validTo))),
    rootsNotAfter: Math.min(...roots.map((r) => time(r.validTo))),
    issuerName: signer?.subject.replace(/\n/g, ", ") ?? "?",
  };
}
