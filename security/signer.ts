// Where X.509 objects get made. The library that makes them costs ~22 MB of RSS once loaded under
// Bun, and a sidecar needs it only at start and at each renewal (hours apart), so under Bun a
// sidecar runs it in a short-lived child process (signer-child.ts) and keeps none of it; tests,
// the CLI and the sentry load it in-process. Keys stay in memory and pipes, never on disk.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SpiffeId } from "./spiffe.ts";
import { CertError } from "./errors.ts";

export interface SignRequestOp {
  readonly op: "sign";
  readonly issuerPem: string;
  readonly issuerKeyPem: string;
  readonly spkiPem: string;
  readonly id: SpiffeId;
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface CsrRequestOp {
  readonly op: "csr";
  readonly keyPem: string;
  readonly id: SpiffeId;
}

/** Creates a CA (root and issuer) in `dir`, as `meshlet certs init` does; resolves to "". */
export interface InitCaOp {
  readonly op: "init-ca";
  readonly dir: string;
  readonly trustDomain: string;
}

export type SignerOp = SignRequestOp | CsrRequestOp | InitCaOp;

/** Makes a workload certificate or a CSR; resolves to PEM. */
export type Signer = (op: SignerOp) => Promise<string>;

export const inProcessSigner: Signer = async (op) => {
  if (op.op === "init-ca") {
    await (await import("./ca.ts")).initCa(op.dir, { trustDomain: op.trustDomain });
    return "";
  }
  const x = await import("./x509.ts");
  if (op.op === "csr") return x.createCsr(op.keyPem, op.id);
  return x.signWorkload(op.issuerPem, op.issuerKeyPem, op.spkiPem, op.id, new Date(op.notBefore), new Date(op.notAfter));
};

const CHILD = fileURLToPath(new URL("./signer-child.ts", import.meta.url));
const CHILD_TIMEOUT_MS = 30_000;
/**
 * In the single binary (`bun build --compile`) the sources live in Bun's embedded file system and
 * the binary is the runtime: the child is the binary itself, asked for its hidden signer command.
 */
export const SIGNER_COMMAND = "__signer";
const childArgs = CHILD.includes("/$bunfs/") ? [SIGNER_COMMAND] : [CHILD];

/** Runs one operation in a fresh `bun signer-child.ts`: request on stdin, PEM (or an error) on stdout. */
export const childSigner: Signer = (op) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, childArgs, { stdio: ["pipe", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "" } });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the certificate signer: ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      let r: { pem?: string; error?: string; certError?: boolean } = {};
      try {
        r = JSON.parse(out) as typeof r;
      } catch {
        // no JSON: reported below with stderr
      }
      if (code === 0 && typeof r.pem === "string") resolve(r.pem);
      else if (r.error && r.certError) reject(new CertError(r.error));
      else reject(new Error(r.error ?? `the certificate signer failed (exit ${code}): ${err.trim().split("\n").pop() ?? ""}`));
    });
    child.stdin.end(JSON.stringify(op));
  });

/** The child under Bun (which runs TypeScript directly), in-process elsewhere; MESHLET_SIGNER=inprocess forces it. */
export function defaultSigner(): Signer {
  return typeof Bun !== "undefined" && process.env.MESHLET_SIGNER !== "inprocess" ? childSigner : inProcessSigner;
}
