// `meshlet certs`: the local CA on purpose. init creates it, show inspects it (warning under 30
// days), export/import move the trust bundle (and, when asked, the issuer) between hosts, and
// renew-issuer makes a new issuer under the same root, which running sidecars pick up live.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { lifetimeFlag } from "./flags.ts";
import { helpText, parseCommand, parseFlagsOnly } from "./command-spec.ts";
import { CERTS_EXPORT_SPEC, CERTS_IMPORT_SPEC, CERTS_INIT_SPEC, CERTS_RENEW_SPEC, CERTS_SHOW_SPEC, CERTS_SPEC } from "./specs/security.ts";
import { ok, UsageError } from "./ui.ts";
import { meshletHome } from "../resolvers/local.ts";
import { CA_FILES, certsDir, CertError, DEFAULT_ISSUER_TTL_MS, initCa, loadIssuer, parseCerts, readCertFile } from "../security/ca.ts";
import { readCerts } from "../security/pem.ts";
import { ensurePrivateDir, writeFileAtomic } from "../core/private-files.ts";

const DAY = 86_400_000;
const WARN_DAYS = 30;


const days = (ms: number) => Math.floor(ms / DAY);

function describeCert(c: import("node:crypto").X509Certificate, now: number): string {
  const left = Date.parse(c.validTo) - now;
  const flag = left <= 0 ? "  EXPIRED" : days(left) < WARN_DAYS ? `  WARNING: expires in ${days(left)} days` : "";
  return `${c.subject.replace(/\n/g, ", ")}  expires ${new Date(Date.parse(c.validTo)).toISOString()} (${days(Math.max(0, left))} days)  sha256 ${c.fingerprint256.slice(0, 23)}${flag}`;
}

/** What doctor and `certs show` print about a CA directory; null when there is none. */
export function caSummary(dir: string, now = Date.now()): string[] | null {
  const trust = path.join(dir, CA_FILES.trust);
  if (!fs.existsSync(trust)) return null;
  const lines = [`CA directory ${dir}`];
  for (const r of parseCerts(fs.readFileSync(trust, "utf8"), trust)) lines.push(`  root    ${describeCert(r, now)}`);
  const issuerFile = path.join(dir, CA_FILES.issuer);
  if (fs.existsSync(issuerFile)) {
    for (const c of readCerts(fs.readFileSync(issuerFile, "utf8")).slice(0, 1)) lines.push(`  issuer  ${describeCert(c, now)}`);
  } else lines.push("  issuer  none here (trust bundle only: certificates come from a sentry or files)");
  for (const f of [CA_FILES.issuerKey, CA_FILES.rootKey]) {
    const p = path.join(dir, f);
    if (fs.existsSync(p)) {
      const mode = fs.statSync(p).mode & 0o777;
      lines.push(`  ${f.padEnd(10)} mode ${mode.toString(8)}${mode & 0o077 ? "  WARNING: readable by others; chmod 600" : ""}`);
    }
  }
  return lines;
}

async function init(args: string[]): Promise<number> {
  const v = parseFlagsOnly(CERTS_INIT_SPEC, args);
  const dir = v.dir ?? certsDir(meshletHome());
  const ttl = v.ttl !== undefined ? await lifetimeFlag("ttl", v.ttl) : DEFAULT_ISSUER_TTL_MS;
  await initCa(dir, { trustDomain: v["trust-domain"], issuerTtlMs: ttl });
  ok(`created a CA in ${dir}`);
  for (const l of caSummary(dir) ?? []) process.stdout.write(l + "\n");
  return 0;
}

function show(args: string[]): number {
  const v = parseFlagsOnly(CERTS_SHOW_SPEC, args);
  const dir = v.dir ?? certsDir(meshletHome());
  const lines = caSummary(dir);
  if (!lines) throw new CertError(`${dir} holds no CA (${CA_FILES.trust}): \`meshlet certs init\` creates one, \`meshlet run\` does on first use`);
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}

function exportCa(args: string[]): number {
  const v = parseFlagsOnly(CERTS_EXPORT_SPEC, args);
  const dir = v.dir ?? certsDir(meshletHome());
  const trust = fs.readFileSync(path.join(dir, CA_FILES.trust), "utf8");
  parseCerts(trust, path.join(dir, CA_FILES.trust));
  if (!v["with-issuer"]) {
    if (!v.out) {
      process.stdout.write(trust);
      return 0;
    }
    fs.writeFileSync(v.out, trust, { mode: 0o644 });
    ok(`wrote the trust bundle to ${v.out} (import it with: meshlet certs import ${path.basename(v.out)})`);
    return 0;
  }
  if (!v.out) throw new UsageError("--with-issuer writes a directory (it holds a private key): give --out DIR");
  if (fs.existsSync(v.out)) throw new UsageError(`--out ${v.out} exists; give a new directory`);
  ensurePrivateDir(v.out);
  fs.writeFileSync(path.join(v.out, CA_FILES.trust), trust, { mode: 0o644 });
  fs.copyFileSync(path.join(dir, CA_FILES.issuer), path.join(v.out, CA_FILES.issuer));
  fs.writeFileSync(path.join(v.out, CA_FILES.issuerKey), fs.readFileSync(path.join(dir, CA_FILES.issuerKey)), { mode: 0o600 });
  ok(`wrote the trust bundle and the issuer (its key mode 0600) to ${v.out}: move it over a private channel`);
  return 0;
}

async function importCa(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand(CERTS_IMPORT_SPEC, args);
  const from = positionals[0];
  if (!from) throw new UsageError("meshlet certs import needs a bundle file or an exported directory");
  const dir = v.dir ?? certsDir(meshletHome());
  const isDir = fs.existsSync(from) && fs.statSync(from).isDirectory();
  const bundleFile = isDir ? path.join(from, CA_FILES.trust) : from;
  const incoming = parseCerts(readCertFile(bundleFile, "trust bundle"), bundleFile);
  if (incoming.some((c) => !c.ca)) throw new CertError(`${bundleFile}: holds a certificate that is not a CA; a trust bundle holds roots only`);
  const withIssuer = isDir && fs.existsSync(path.join(from, CA_FILES.issuer));
  // Checked before anything is written: an import either happens whole or not at all.
  const issuerHere = path.join(dir, CA_FILES.issuer);
  if (withIssuer && fs.existsSync(issuerHere) && fs.readFileSync(issuerHere, "utf8") !== fs.readFileSync(path.join(from, CA_FILES.issuer), "utf8")) {
    throw new CertError(`${issuerHere} already holds another issuer; it is never overwritten: move it away first`);
  }
  ensurePrivateDir(dir);
  const trustFile = path.join(dir, CA_FILES.trust);
  const have = fs.existsSync(trustFile) ? fs.readFileSync(trustFile, "utf8") : "";
  const known = new Set(have ? parseCerts(have, trustFile).map((c) => c.fingerprint256) : []);
  const added = incoming.filter((c) => !known.has(c.fingerprint256));
  // Roots are added, never dropped here: a rotation publishes the new root before the old goes.
  const merged = (have.trim() ? have.trim() + "\n" : "") + added.map((c) => c.toString().trim()).join("\n") + (added.length ? "\n" : "");
  writeFileAtomic(trustFile, merged, 0o644);
  ok(`${trustFile}: ${added.length} root(s) added, ${known.size} kept`);
  if (withIssuer) {
    // Key first, then certificate, each replaced in one step (as renew-issuer writes them).
    writeFileAtomic(path.join(dir, CA_FILES.issuerKey), fs.readFileSync(path.join(from, CA_FILES.issuerKey)), 0o600);
    writeFileAtomic(path.join(dir, CA_FILES.issuer), fs.readFileSync(path.join(from, CA_FILES.issuer)), 0o644);
    await loadIssuer(dir);
    ok(`installed the issuer in ${dir}: sidecars using this directory sign their certificates with it`);
  }
  return 0;
}

async function renewIssuer(args: string[]): Promise<number> {
  const v = parseFlagsOnly(CERTS_RENEW_SPEC, args);
  const dir = v.dir ?? certsDir(meshletHome());
  const rootKeyFile = path.join(dir, CA_FILES.rootKey);
  if (!fs.existsSync(rootKeyFile)) throw new CertError(`${rootKeyFile} does not exist: only a CA made by meshlet certs init keeps its root key`);
  const ttl = v.ttl ? await lifetimeFlag("ttl", v.ttl) : DEFAULT_ISSUER_TTL_MS;
  const roots = parseCerts(fs.readFileSync(path.join(dir, CA_FILES.trust), "utf8"), path.join(dir, CA_FILES.trust));
  const x = await import("../security/x509.ts");
  const rootKeyPem = fs.readFileSync(rootKeyFile, "utf8");
  const rootKey = await x.importPrivateKey(rootKeyPem);
  const rootKeyObject = crypto.createPrivateKey(rootKeyPem);
  const root = roots.find((r) => r.checkPrivateKey(rootKeyObject));
  if (!root) throw new CertError(`${rootKeyFile} is not the key of any root in ${CA_FILES.trust}`);
  const issuerKey = await x.newKeyPair(true);
  const now = Date.now();
  const pem = await x.createIssuer(root.toString(), rootKey, issuerKey.publicKey, `meshlet issuer ${now}`, new Date(now - 5 * 60_000), new Date(now + ttl));
  // Key first, then certificate, each replaced in one step: readers see a matching pair once both are in.
  writeFileAtomic(path.join(dir, CA_FILES.issuerKey), await x.privateKeyPem(issuerKey.privateKey), 0o600);
  writeFileAtomic(path.join(dir, CA_FILES.issuer), pem, 0o644);
  await loadIssuer(dir);
  ok(`new issuer in ${dir}, valid until ${new Date(now + ttl).toISOString()}; running sidecars use it from their next certificate`);
  return 0;
}

export async function certsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub) {
    process.stdout.write(helpText(CERTS_SPEC));
    return 1;
  }
  switch (sub) {
    case "init":
      return init(rest);
    case "show":
      return show(rest);
    case "export":
      return exportCa(rest);
    case "import":
      return importCa(rest);
    case "renew-issuer":
      return renewIssuer(rest);
    default:
      throw new UsageError(`unknown certs command "${sub}" (commands: init, show, export, import, renew-issuer)`);
  }
}
