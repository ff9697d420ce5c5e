// The certificate authority's files, laid out as Dapr's sentry reads them (`ca.crt` trust anchors,
// `issuer.crt`, `issuer.key`, plus `root.key` so the issuer can be renewed under the same root):
// created once on purpose or on first use, never overwritten, and checked in full when loaded.

import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { ensurePrivateDir } from "../core/private-files.ts";
import { checkP256Key, readCerts } from "./pem.ts";
import { defaultSigner, type Signer } from "./signer.ts";
import { DEFAULT_TRUST_DOMAIN, type SpiffeId } from "./spiffe.ts";
import { CertError } from "./errors.ts";

export const CA_FILES = { trust: "ca.crt", issuer: "issuer.crt", issuerKey: "issuer.key", rootKey: "root.key" } as const;

const DAY = 86_400_000;
/** The issuer's default life when made here (`meshlet certs init --ttl`). */
export const DEFAULT_ISSUER_TTL_MS = 365 * DAY;
/** Roots outlive issuers so an issuer can be renewed many times under one trust anchor. */
export const ROOT_TTL_MS = 10 * 365 * DAY;

export { CertError };

export interface Issuer {
  readonly dir: string;
  /** The trust anchors as read (one or more roots, PEM). */
  readonly trustPem: string;
  readonly certPem: string;
  /** The issuer's private key (PEM); read from its file, handed only to the signer. */
  readonly keyPem: string;
  readonly notAfter: number;
  /** The trust domain recorded by `certs init` (the sentry's default). */
  readonly trustDomain: string;
}

export function certsDir(home: string): string {
  return path.join(home, "certs");
}

function existing(dir: string): string[] {
  return Object.values(CA_FILES).filter((f) => fs.existsSync(path.join(dir, f)));
}

/**
 * Creates a root and an issuer in `dir`, which must hold none of the CA files (a CA is never
 * replaced behind the user's back). All files are written to a private temporary directory
 * and renamed into place in one step, so sidecars starting at once agree on one CA.
 */
export async function initCa(dir: string, o: { trustDomain?: string; issuerTtlMs?: number; now?: number } = {}): Promise<void> {
  const have = existing(dir);
  if (have.length) throw new CertError(`${dir} already holds a CA (${have.join(", ")}); it is never overwritten: use another --dir or remove it yourself`);
  const now = o.now ?? Date.now();
  const td = o.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const { createIssuer, createRoot, newKeyPair, privateKeyPem } = await import("./x509.ts");
  const rootKey = await newKeyPair(true);
  const issuerKey = await newKeyPair(true);
  const from = new Date(now - 5 * 60_000);
  const rootPem = await createRoot(rootKey, `meshlet root ${td}`, from, new Date(now + ROOT_TTL_MS));
  const issuerPem = await createIssuer(rootPem, rootKey, issuerKey.publicKey, `meshlet issuer ${td}`, from, new Date(now + (o.issuerTtlMs ?? DEFAULT_ISSUER_TTL_MS)));
  ensurePrivateDir(path.dirname(path.resolve(dir)));
  const tmp = `${path.resolve(dir)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.mkdirSync(tmp, { mode: 0o700 });
  try {
    fs.writeFileSync(path.join(tmp, CA_FILES.trust), rootPem, { mode: 0o644 });
    fs.writeFileSync(path.join(tmp, CA_FILES.issuer), issuerPem, { mode: 0o644 });
    fs.writeFileSync(path.join(tmp, CA_FILES.issuerKey), await privateKeyPem(issuerKey.privateKey), { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, CA_FILES.rootKey), await privateKeyPem(rootKey.privateKey), { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, "trust-domain"), td + "\n", { mode: 0o644 });
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
      if (!existing(dir).length) throw new CertError(`${dir} exists and is not empty, but holds no CA`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The CA in `dir`, created (by the signer: in a child process under Bun) when the directory holds none of its files (first use). */
export async function ensureCa(dir: string, trustDomain = DEFAULT_TRUST_DOMAIN, signer: Signer = defaultSigner()): Promise<Issuer> {
  if (existing(dir).length === 0) {
    try {
      await signer({ op: "init-ca", dir, trustDomain });
    } catch (e) {
      // Another sidecar starting at the same time made it first: theirs is the CA.
      if (existing(dir).length === 0) throw e;
    }
  }
  return loadIssuer(dir);
}

/** The text of a certificate or key file, or a one-line CertError naming it and the OS's code. */
export function readCertFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new CertError(`${file}: cannot read the ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Reads and checks the issuer in `dir`: its key matches it, it is a CA, it chains to a trust anchor, it is in date. */
export async function loadIssuer(dir: string, now = Date.now()): Promise<Issuer> {
  const trustFile = path.join(dir, CA_FILES.trust);
  const issuerFile = path.join(dir, CA_FILES.issuer);
  const keyFile = path.join(dir, CA_FILES.issuerKey);
  let trustDomain = DEFAULT_TRUST_DOMAIN;
  try {
    trustDomain = fs.readFileSync(path.join(dir, "trust-domain"), "utf8").trim() || DEFAULT_TRUST_DOMAIN;
  } catch {
    // Optional: CAs made elsewhere (dapr's sentry) have no such file.
  }
  return issuerFromPem(
    { pem: readCertFile(issuerFile, "issuer certificate"), where: issuerFile },
    { pem: readCertFile(keyFile, "issuer key"), where: keyFile },
    { pem: readCertFile(trustFile, "trust anchors"), where: trustFile },
    { dir, trustDomain, now },
  );
}

interface Located {
  readonly pem: string;
  readonly where: string;
}

/** Checks an issuer given as PEM text (files, or Dapr's DAPR_CERT_CHAIN / DAPR_CERT_KEY). */
export async function issuerFromPem(cert: Located, keyText: Located, trust: Located, o: { dir: string; trustDomain: string; now: number }): Promise<Issuer> {
  const roots = parseCerts(trust.pem, trust.where);
  const [issuer] = parseCerts(cert.pem, cert.where);
  let keyObject: crypto.KeyObject;
  try {
    keyObject = checkP256Key(keyText.pem);
  } catch (e) {
    throw new CertError(`${keyText.where}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!issuer!.checkPrivateKey(keyObject)) throw new CertError(`${keyText.where} is not the key of ${cert.where}`);
  if (!issuer!.ca) throw new CertError(`${cert.where} is not a CA certificate (basicConstraints CA:FALSE)`);
  const selfSigned = roots.some((r) => r.fingerprint256 === issuer!.fingerprint256);
  if (!selfSigned && !roots.some((r) => issuer!.checkIssued(r) && issuer!.verify(r.publicKey))) {
    throw new CertError(`${cert.where} is not signed by any root in ${trust.where}`);
  }
  const notAfter = Date.parse(issuer!.validTo);
  if (notAfter <= o.now) throw new CertError(`${cert.where} expired on ${new Date(notAfter).toISOString()}`);
  return { dir: o.dir, trustPem: trust.pem, certPem: cert.pem, keyPem: keyText.pem, notAfter, trustDomain: o.trustDomain };
}

/** Every certificate in `text` (at least one), or a one-line error naming `file`. */
export function parseCerts(text: string, file: string): crypto.X509Certificate[] {
  let certs: crypto.X509Certificate[];
  try {
    certs = readCerts(text);
  } catch (e) {
    throw new CertError(`${file}: ${(e as Error).message}`);
  }
  if (certs.length === 0) throw new CertError(`${file}: no PEM certificate in it`);
  return certs;
}

/** A workload certificate from this issuer: the chain (leaf, issuer) for a public key (SPKI PEM). */
export async function issueWorkload(
  issuer: Issuer,
  spkiPem: string,
  id: SpiffeId,
  o: { ttlMs: number; skewMs: number; now: number },
  signer: Signer = defaultSigner(),
): Promise<{ chainPem: string; notBefore: number; notAfter: number }> {
  // Never past the issuer's own expiry: a chain is only as good as its shortest link.
  const notAfter = Math.min(o.now + o.ttlMs, issuer.notAfter);
  if (notAfter <= o.now) throw new CertError(`the issuer in ${issuer.dir} has expired`);
  const notBefore = o.now - o.skewMs;
  const leaf = await signer({ op: "sign", issuerPem: issuer.certPem, issuerKeyPem: issuer.keyPem, spkiPem, id, notBefore, notAfter });
  return { chainPem: `${leaf.trim()}\n${issuer.certPem.trim()}\n`, notBefore, notAfter };
}
