// Sidecar-to-sidecar mTLS on node:tls (the same under Bun and Node): the internal port accepts only
// clients whose certificate chains to the trust bundle and hands their SPIFFE id to the request
// path; the dialer checks that the peer proves the app-id it meant to reach. New credentials apply
// to the next handshake on both sides (setSecureContext; idle pooled connections are retired).

import tls from "node:tls";
import type { InternalTransport } from "./transport.ts";
import type { Listen } from "../runtime/listen.ts";
import { PortInUseError } from "../runtime/listen.ts";
import type { TlsCredentials, TlsMaterial } from "./credentials.ts";
import { ServerConn } from "../http1/h1-server.ts";
import { ServerConns } from "../http1/server-conns.ts";
import { H1Conn } from "../http1/h1-conn.ts";
import { ConnectionError } from "../core/connection-error.ts";
import { nodeWire } from "../runtime/node-wire.ts";
import { type Connector, pooledDialer } from "../runtime/conn-pool.ts";
import { formatSpiffe, spiffeFromAltNames } from "../security/spiffe.ts";

/** Told about every handshake the internal port refused (a throttled log line, a counter). */
export type RefusedHandshake = (address: string, why: string) => void;

const MIN_VERSION = "TLSv1.2" as const;

const TRUST_HINT = "give both sidecars the same trust bundle (meshlet certs export/import) or the same sentry";

function serverContext(m: TlsMaterial): tls.SecureContextOptions {
  return { cert: m.chainPem, key: m.keyPem, ca: m.trustPem, minVersion: MIN_VERSION };
}

/** A TLS alert the peer sent about our certificate: it does not trust us (unknown CA, expired...). */
function peerRefusedUs(e: unknown): string | null {
  const code = String((e as { code?: unknown } | null)?.code ?? "");
  const msg = String((e as Error | null)?.message ?? "");
  const alert = /(?:TLSV1|SSLV3)_ALERT_([A-Z_]+)/.exec(code) ?? /(?:TLSV1|SSLV3)_ALERT_([A-Z_]+)/i.exec(msg);
  return alert ? alert[1]!.toLowerCase().replace(/_/g, " ") : null;
}

export function mtlsTransport(creds: TlsCredentials, onRefused: RefusedHandshake = () => {}): InternalTransport {
  const listen: Listen = async ({ host, port, handler, maxHeaderBytes }) => {
    const opts = { handler, maxHeaderBytes };
    const server = tls.createServer({
      ...serverContext(creds.current()),
      requestCert: true,
      rejectUnauthorized: true,
      allowHalfOpen: true,
    });
    const off = creds.onChange((m) => server.setSecureContext(serverContext(m)));
    const conns = new ServerConns();
    server.on("secureConnection", (s) => {
      s.setNoDelay(true);
      const identity = spiffeFromAltNames(s.getPeerCertificate()?.subjectaltname) ?? undefined;
      const wire = nodeWire(s, () => conn.onDrain());
      const conn: ServerConn = new ServerConn(wire, { address: s.remoteAddress ?? "", port: s.remotePort ?? 0, identity }, opts);
      conns.add(conn);
      s.on("data", (chunk: Buffer) => conn.onData(chunk));
      s.on("end", () => conn.onEnd());
      s.on("close", () => conn.onClose());
      s.on("error", () => conn.onClose());
    });
    server.on("tlsClientError", (e, s) => {
      const code = (e as { code?: string }).code ?? e.message;
      onRefused(s.remoteAddress ?? "?", code);
      s.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) => {
        off();
        void conns.close(true);
        reject(e.code === "EADDRINUSE" ? new PortInUseError(host, port) : e);
      });
      server.listen({ host, port, exclusive: true }, () => resolve());
    });
    const address = server.address();
    return {
      host,
      port: typeof address === "object" && address ? address.port : port,
      async close(force) {
        off();
        server.close();
        await conns.close(force);
      },
    };
  };

  const connect: Connector = (ep, ctx, release) =>
    new Promise<H1Conn>((resolve, reject) => {
      const m = creds.current();
      const signal = ctx.signal;
      const s = tls.connect({
        host: ep.host,
        port: ep.port,
        cert: m.chainPem,
        key: m.keyPem,
        ca: m.trustPem,
        minVersion: MIN_VERSION,
        // The chain is verified against the bundle; the name is a SPIFFE id, checked below.
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
      });
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        s.destroy();
        reject(e);
      };
      const onAbort = () => fail(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      s.once("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ECONNREFUSED") return fail(new ConnectionError(`connection refused by ${ep.key}`, "ECONNREFUSED", true, true));
        const alert = peerRefusedUs(e);
        if (alert) {
          return fail(new ConnectionError(`the sidecar at ${ep.key} refused this sidecar's certificate (TLS alert: ${alert}): ${TRUST_HINT}`, "EPEERUNTRUSTED", true, true));
        }
        fail(new ConnectionError(`TLS connection to ${ep.key} failed: ${e.message}`, "ECONNRESET", true, true));
      });
      s.once("secureConnect", () => {
        if (settled) return;
        if (!s.authorized) {
          const why = String(s.authorizationError ?? "unverified");
          return fail(new ConnectionError(`the sidecar at ${ep.key} presented a certificate this sidecar does not trust (${why}): ${TRUST_HINT}`, "EPEERUNTRUSTED", true, true));
        }
        const id = spiffeFromAltNames(s.getPeerCertificate()?.subjectaltname);
        if (!id || id.appId !== ctx.appId || id.namespace !== ctx.namespace) {
          const proved = id ? formatSpiffe(id) : "no SPIFFE id";
          return fail(
            new ConnectionError(`the sidecar at ${ep.key} is not ${ctx.appId}.${ctx.namespace}: its certificate names ${proved}`, "EPEERIDENTITY", true, true),
          );
        }
        settled = true;
        signal.removeEventListener("abort", onAbort);
        s.setNoDelay(true);
        const wire = nodeWire(s, () => conn.onDrain());
        const conn = new H1Conn(wire, release);
        s.on("data", (chunk: Buffer) => conn.onData(chunk));
        s.on("close", () => conn.onClose());
        s.on("error", () => conn.onClose());
        resolve(conn);
      });
    });

  return {
    name: "mtls",
    listen,
    dialer() {
      // Pools per address and target: a connection proven for one app-id never carries another's calls.
      const d = pooledDialer(connect, (ep, appId, namespace) => `${ep.key} ${namespace}/${appId}`);
      const off = creds.onChange(() => d.flush());
      return {
        dial: d.dial,
        async close() {
          off();
          await d.close();
        },
      };
    },
  };
}
