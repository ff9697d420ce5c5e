// A sidecar's side of the sentry: sends a CSR for its identity (key made here, never sent or
// written) with its join token over TLS, checks that the server is the sentry (its certificate
// chains to the trust anchors and names dapr-sentry), and checks what comes back before using it.

import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { CertError, CA_FILES, certsDir } from "../ca.ts";
import { checkMaterial } from "../material.ts";
import { newWorkloadKey } from "../pem.ts";
import { defaultSigner } from "../signer.ts";
import { formatSpiffe, spiffeFromAltNames } from "../spiffe.ts";
import type { IdentitySource } from "../identity.ts";
import { DEFAULT_SENTRY_PORT, SENTRY_APP_ID, SIGN_PATH, type SignRequest, type SignResponse } from "./protocol.ts";

export interface SentryClientOptions {
  /** host:port (port defaults to 50001). */
  readonly address: string;
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  /** The sentry's trust domain in its SPIFFE id (Configuration spec.mtls.controlPlaneTrustDomain). */
  readonly controlPlaneTrustDomain?: string;
  readonly timeoutMs?: number;
}

function hostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(address.trim());
  if (!m || !m[1]) throw new CertError(`--sentry-address: "${address}" is not host:port`);
  const port = m[2] ? Number(m[2]) : DEFAULT_SENTRY_PORT;
  if (!(port > 0 && port < 65536)) throw new CertError(`--sentry-address: "${address}" has no valid port`);
  return { host: m[1], port };
}

/** Trust anchors to verify the sentry: DAPR_TRUST_ANCHORS (PEM text), else the imported bundle. */
function trustAnchors(o: SentryClientOptions): string {
  if (o.env.DAPR_TRUST_ANCHORS) return o.env.DAPR_TRUST_ANCHORS;
  const file = path.join(certsDir(o.home), CA_FILES.trust);
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    throw new CertError(`no trust anchors to verify the sentry: set DAPR_TRUST_ANCHORS or import the bundle into ${file} (meshlet certs import)`);
  }
}

/** The join token: DAPR_SENTRY_TOKEN_FILE (read at every request, so it can be replaced), else MESHLET_SENTRY_TOKEN. */
function token(env: NodeJS.ProcessEnv): string {
  const file = env.DAPR_SENTRY_TOKEN_FILE;
  if (file) {
    try {
      return fs.readFileSync(file, "utf8").trim();
    } catch (e) {
      throw new CertError(`DAPR_SENTRY_TOKEN_FILE ${file}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (env.MESHLET_SENTRY_TOKEN) return env.MESHLET_SENTRY_TOKEN.trim();
  throw new CertError("a sentry needs a join token: set DAPR_SENTRY_TOKEN_FILE (or MESHLET_SENTRY_TOKEN) to one made by `meshlet sentry token create`");
}

export function sentrySource(o: SentryClientOptions): IdentitySource {
  const { host, port } = hostPort(o.address);
  const cpTrustDomain = o.controlPlaneTrustDomain ?? "cluster.local";
  const where = `sentry at ${host}:${port}`;
  trustAnchors(o);
  token(o.env);
  return {
    describe: where,
    renews: true,
    async obtain(id, t) {
      const key = newWorkloadKey();
      const body: SignRequest = {
        csr: await defaultSigner()({ op: "csr", keyPem: key.keyPem, id }),
        token: token(o.env),
        trustDomain: id.trustDomain,
        namespace: id.namespace,
        appId: id.appId,
        ttlSeconds: Math.round(t.ttlMs / 1000),
        skewSeconds: Math.round(t.skewMs / 1000),
      };
      const { status, text } = await post(host, port, trustAnchors(o), cpTrustDomain, JSON.stringify(body), o.timeoutMs ?? 10_000);
      if (status !== 200) {
        let msg = text;
        try {
          msg = (JSON.parse(text) as { error?: string }).error ?? text;
        } catch {
          // not JSON: the text as it is
        }
        // A refusal is an answer, not an outage: it fails at once and says why.
        if (status >= 400 && status < 500) throw new CertError(`the ${where} refused to sign ${formatSpiffe(id)} (${status}): ${msg}`);
        throw new Error(`the ${where} failed (${status}): ${msg}`);
      }
      const r = JSON.parse(text) as SignResponse;
      return checkMaterial(r.chain, key.keyPem, r.trustBundle, id, `certificate from the ${where}`, t.now);
    },
  };
}

function post(host: string, port: number, ca: string, cpTrustDomain: string, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        port,
        path: SIGN_PATH,
        method: "POST",
        ca,
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        // The chain is checked against the anchors; the name must be the sentry's SPIFFE id.
        checkServerIdentity: (_h, cert) => {
          const id = spiffeFromAltNames(cert.subjectaltname);
          if (id && id.appId === SENTRY_APP_ID && id.trustDomain === cpTrustDomain) return undefined;
          return new Error(`the server at ${host}:${port} is not the sentry: its certificate names ${id ? formatSpiffe(id) : "no SPIFFE id"}`);
        },
        timeout: timeoutMs,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) => reject(new Error(`cannot reach the sentry at ${host}:${port}: ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " "))));
    req.end(body);
  });
}
