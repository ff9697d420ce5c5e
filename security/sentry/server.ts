// `meshlet sentry`: a CA service for sidecars on several hosts. It signs a workload certificate for
// a CSR when the join token covers the identity asked for (namespace, app-id pattern, not expired)
// and the CSR names exactly that identity; every refusal is logged. The issuer files are re-read
// when they change, and the sentry's own certificate is renewed before it expires.

import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { Logger } from "../../core/log.ts";
import { throttledInfo } from "../../core/log.ts";
import { fileStamp } from "../../core/file-stamp.ts";
import { CA_FILES, CertError, type Issuer, issueWorkload, loadIssuer } from "../ca.ts";
import { readCsr } from "../x509.ts";
import { newWorkloadKey } from "../pem.ts";
import { inProcessSigner } from "../signer.ts";
import { formatSpiffe, parseSpiffe, type SpiffeId, validTrustDomain } from "../spiffe.ts";
import { appAdmitted, tokenKey, verifyToken } from "./token.ts";
import { SENTRY_APP_ID, SIGN_PATH, type SignRequest } from "./protocol.ts";

export interface SentryOptions {
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  /** The trust domain it signs for (workloads). */
  readonly trustDomain: string;
  /** The control plane's trust domain, in the sentry's own SPIFFE id. */
  readonly controlPlaneTrustDomain: string;
  /** Longest workload certificate it signs. */
  readonly maxTtlMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface RunningSentry {
  readonly port: number;
  /** Certificates signed and requests refused so far. */
  readonly counts: { signed: number; refused: number };
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const OWN_TTL_MS = 24 * 3_600_000;

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Refused(413, `request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseRequest(text: string): SignRequest {
  let v: Partial<SignRequest>;
  try {
    v = JSON.parse(text) as Partial<SignRequest>;
  } catch {
    throw new Refused(400, "the request is not JSON");
  }
  for (const k of ["csr", "token", "trustDomain", "namespace", "appId"] as const) {
    if (typeof v[k] !== "string" || v[k] === "") throw new Refused(400, `the request has no ${k}`);
  }
  return {
    csr: v.csr!,
    token: v.token!,
    trustDomain: v.trustDomain!,
    namespace: v.namespace!,
    appId: v.appId!,
    ttlSeconds: Number(v.ttlSeconds) > 0 ? Number(v.ttlSeconds) : 86_400,
    skewSeconds: Number(v.skewSeconds) >= 0 ? Number(v.skewSeconds) : 900,
  };
}

export async function startSentry(o: SentryOptions): Promise<RunningSentry> {
  const now = o.now ?? Date.now;
  if (!validTrustDomain(o.trustDomain)) throw new CertError(`--trust-domain: "${o.trustDomain}" is not a valid trust domain`);
  const key = tokenKey(o.dir, true);
  const files = [CA_FILES.trust, CA_FILES.issuer, CA_FILES.issuerKey].map((f) => path.join(o.dir, f));
  let issuer: Issuer = await loadIssuer(o.dir, now());
  let stamp = fileStamp(files);
  const selfId: SpiffeId = { trustDomain: o.controlPlaneTrustDomain, namespace: "default", appId: SENTRY_APP_ID };
  const ownCert = async () => {
    const key = newWorkloadKey();
    const { chainPem } = await issueWorkload(issuer, key.spkiPem, selfId, { ttlMs: OWN_TTL_MS, skewMs: 5 * 60_000, now: now() }, inProcessSigner);
    return { cert: chainPem, key: key.keyPem, minVersion: "TLSv1.2" as const };
  };
  const counts = { signed: 0, refused: 0 };
  const logRefusal = throttledInfo(o.log);

  const sign = async (r: SignRequest): Promise<{ chain: string; trustBundle: string }> => {
    let claims;
    try {
      claims = verifyToken(key, r.token, now());
    } catch (e) {
      throw new Refused(401, (e as Error).message);
    }
    if (r.trustDomain !== o.trustDomain) throw new Refused(403, `this sentry signs for trust domain ${o.trustDomain}, not ${r.trustDomain}`);
    if (claims.ns !== r.namespace) throw new Refused(403, `the token admits namespace ${claims.ns}, not ${r.namespace}`);
    if (!appAdmitted(claims.app, r.appId)) throw new Refused(403, `the token admits app-ids "${claims.app}", not ${r.appId}`);
    const want = formatSpiffe({ trustDomain: r.trustDomain, namespace: r.namespace, appId: r.appId });
    if (!parseSpiffe(want)) throw new Refused(400, `${want} is not a valid SPIFFE id`);
    let csr;
    try {
      csr = await readCsr(r.csr);
    } catch (e) {
      throw new Refused(400, `the CSR is invalid: ${(e as Error).message}`);
    }
    if (csr.uris.length !== 1 || csr.uris[0] !== want) throw new Refused(403, `the CSR asks for ${csr.uris.join(", ") || "no SPIFFE id"}, the request and token are for ${want}`);
    const ttlMs = Math.min(r.ttlSeconds * 1000, o.maxTtlMs);
    const { chainPem } = await issueWorkload(issuer, csr.spkiPem, parseSpiffe(want)!, { ttlMs, skewMs: r.skewSeconds * 1000, now: now() }, inProcessSigner);
    return { chain: chainPem, trustBundle: issuer.trustPem };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    let r: SignRequest | null = null;
    try {
      if (req.method !== "POST" || req.url !== SIGN_PATH) throw new Refused(404, `only POST ${SIGN_PATH} is served`);
      r = parseRequest(await readBody(req));
      const out = await sign(r);
      counts.signed++;
      o.log.info("signed a workload certificate", { id: formatSpiffe(r), peer: req.socket.remoteAddress });
      reply(200, out);
    } catch (e) {
      const status = e instanceof Refused ? e.status : 500;
      const message = e instanceof Refused ? e.message : `internal error: ${(e as Error).message}`;
      counts.refused++;
      // Throttled per distinct refusal: a flood of one mistake logs once per window, each new mistake at once.
      logRefusal(`sentry:${status}:${message}`, "refused a certificate request", {
        status,
        reason: message,
        asked_for: r ? `${r.appId}.${r.namespace} (${r.trustDomain})` : "?",
        peer: req.socket.remoteAddress,
      });
      if (!res.headersSent) reply(status, { error: message });
    }
  };

  const server = https.createServer(await ownCert(), (req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: o.host, port: o.port, exclusive: true }, () => resolve());
  });
  // A new issuer or bundle in the directory is used from the next request; the sentry's own
  // certificate is renewed twice a day and whenever the issuer changes.
  let renewedAt = now();
  const poll = setInterval(() => {
    void (async () => {
      const s = fileStamp(files);
      if (s === stamp && now() - renewedAt < OWN_TTL_MS / 2) return;
      try {
        if (s !== stamp) issuer = await loadIssuer(o.dir, now());
        stamp = s;
        server.setSecureContext(await ownCert());
        renewedAt = now();
        o.log.info("sentry credentials reloaded", { dir: o.dir, issuer_expires: new Date(issuer.notAfter).toISOString() });
      } catch (e) {
        stamp = s;
        o.log.error("sentry: the issuer files are invalid; the old issuer stays in use", { error: (e as Error).message });
      }
    })();
  }, 1_000);
  poll.unref();
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : o.port,
    counts,
    async close() {
      clearInterval(poll);
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
