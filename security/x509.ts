// Making certificates and CSRs on @peculiar/x509 (ECDSA P-256, PEM in and out). It costs ~22 MB
// of RSS once loaded under Bun, so a sidecar reaches it through signer.ts (a short-lived child
// process); the CLI and the sentry load it directly. Reading certificates is node:crypto's (pem.ts).

import type * as X509 from "@peculiar/x509";
import nodeCrypto from "node:crypto";
import { formatSpiffe, type SpiffeId } from "./spiffe.ts";

// tsyringe (inside @peculiar/x509) needs the Reflect metadata polyfill loaded before it: awaited
// in that order, because static imports were evaluated in another order now and then (the signer
// child failed with "tsyringe requires a reflect polyfill"), and always once bundled.
await import("reflect-metadata");
const x509: typeof X509 = await import("@peculiar/x509");

const webcrypto = globalThis.crypto;
x509.cryptoProvider.set(webcrypto);

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface KeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

/** A fresh P-256 key pair; `extractable` only for keys that are written to disk (CA keys). */
export async function newKeyPair(extractable: boolean): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(EC, extractable, ["sign", "verify"])) as CryptoKeyPair;
}

export async function privateKeyPem(k: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", k), "PRIVATE KEY");
}

/** Reads a PKCS#8 or SEC1 ("EC PRIVATE KEY") PEM key for signing; throws when it is not P-256. */
export async function importPrivateKey(pem: string): Promise<KeyPair> {
  const key = nodeCrypto.createPrivateKey(pem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new Error("the key is not an ECDSA P-256 key");
  }
  const pkcs8 = key.export({ format: "der", type: "pkcs8" });
  const spki = nodeCrypto.createPublicKey(key).export({ format: "der", type: "spki" });
  return {
    privateKey: await webcrypto.subtle.importKey("pkcs8", pkcs8, EC, true, ["sign"]),
    publicKey: await webcrypto.subtle.importKey("spki", spki, EC, true, ["verify"]),
  };
}

function serial(): string {
  const b = nodeCrypto.randomBytes(16);
  b[0]! &= 0x7f; // positive
  return b.toString("hex");
}

/** A self-signed root that may sign one level of issuers. */
export async function createRoot(keys: KeyPair, name: string, notBefore: Date, notAfter: Date): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore,
    notAfter,
    keys: keys as CryptoKeyPair,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return cert.toString("pem");
}

/** An intermediate (the issuer) signed by the root: it signs workload certificates only. */
export async function createIssuer(
  rootPem: string,
  rootKey: KeyPair,
  issuerPublic: CryptoKey,
  name: string,
  notBefore: Date,
  notAfter: Date,
): Promise<string> {
  const root = new x509.X509Certificate(rootPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${name}`,
    issuer: root.subject,
    notBefore,
    notAfter,
    signingKey: rootKey.privateKey,
    publicKey: issuerPublic,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(issuerPublic),
      await x509.AuthorityKeyIdentifierExtension.create(rootKey.publicKey),
    ],
  });
  return cert.toString("pem");
}

/** The public key in an SPKI PEM, for WebCrypto. */
async function importSpki(spkiPem: string): Promise<CryptoKey> {
  const der = nodeCrypto.createPublicKey(spkiPem).export({ format: "der", type: "spki" });
  return webcrypto.subtle.importKey("spki", der, EC, true, ["verify"]);
}

/** A workload certificate for the key in `spkiPem`: the SPIFFE id as its only SAN, serverAuth and clientAuth. */
export async function signWorkload(
  issuerPem: string,
  issuerKeyPem: string,
  spkiPem: string,
  id: SpiffeId,
  notBefore: Date,
  notAfter: Date,
): Promise<string> {
  const issuerKey = await importPrivateKey(issuerKeyPem);
  const publicKey = await importSpki(spkiPem);
  const issuer = new x509.X509Certificate(issuerPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: "",
    issuer: issuer.subject,
    notBefore,
    notAfter,
    signingKey: issuerKey.privateKey,
    publicKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: formatSpiffe(id) }], true),
      await x509.AuthorityKeyIdentifierExtension.create(issuerKey.publicKey),
    ],
  });
  return cert.toString("pem");
}

/** A PKCS#10 request for `id`, signed by the workload's in-memory key (PKCS#8 PEM). */
export async function createCsr(keyPem: string, id: SpiffeId): Promise<string> {
  const pair = await importPrivateKey(keyPem);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: { privateKey: pair.privateKey, publicKey: pair.publicKey },
    signingAlgorithm: SIGNING,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: formatSpiffe(id) }])],
  });
  return csr.toString("pem");
}

/** What a CSR asks for, once its signature is checked: the SPIFFE URIs it names and its key (SPKI PEM). */
export async function readCsr(pem: string): Promise<{ uris: string[]; spkiPem: string }> {
  const csr = new x509.Pkcs10CertificateRequest(pem);
  if (!(await csr.verify())) throw new Error("the CSR's signature does not verify");
  const san = csr.extensions.find((e): e is X509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const uris = san ? san.names.items.filter((n) => n.type === "url").map((n) => n.value) : [];
  const spkiPem = nodeCrypto.createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: "der", type: "spki" }).export({ format: "pem", type: "spki" }).toString();
  return { uris, spkiPem };
}
