// Sidecar-to-sidecar mTLS. The internal port is a node:tls server (under Bun and Node: the one
// that can swap its certificate live, setSecureContext) that accepts only clients whose
// certificate chains to the trust bundle and hands their SPIFFE id to the request path; the
// dialer (mtls-dial.ts) checks that the peer proves the app-id it meant to reach. New credentials
// apply to the next handshake on both sides (idle pooled connections are retired). Under Bun the
// server's native listener drives meshlet's connections directly (no node:net stream per socket).

import tls from "node:tls";
import type { InternalTransport } from "./transport.ts";
import type { Listen } from "../runtime/listen.ts";
import { PortInUseError } from "../runtime/listen.ts";
import type { TlsCredentials, TlsMaterial } from "./credentials.ts";
import { ServerConn } from "../http1/h1-server.ts";
import type { ServerOptions } from "../http1/server-contract.ts";
import { serverSocketHandlers, type SocketData } from "../runtime/listen-bun.ts";
import { ServerConns } from "../http1/server-conns.ts";
import { nodeWire } from "../runtime/node-wire.ts";
import { pooledDialer } from "../runtime/conn-pool.ts";
import { spiffeFromAltNames } from "../security/spiffe.ts";
import { bunTlsConnector, nodeTlsConnector } from "./mtls-dial.ts";
import type { DialerOptions } from "../runtime/dial.ts";

/** Told about every handshake the internal port refused (a throttled log line, a counter). */
export type RefusedHandshake = (address: string, why: string) => void;

const MIN_VERSION = "TLSv1.2" as const;
/** A connection to the internal port that has not completed its TLS handshake by then is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Idle pooled connections to peer sidecars are kept this long. */
const PEER_IDLE_MS = 30_000;

function serverContext(m: TlsMaterial): tls.SecureContextOptions {
  return { cert: m.chainPem, key: m.keyPem, ca: m.trustPem, minVersion: MIN_VERSION };
}

/** Told about every handshake that completed (side "client" or "server"): the connection reuse rate. */
export type Handshake = (side: "client" | "server") => void;

/** Bun's node:tls server sits on a native listener (`_handle`) whose socket handlers can be replaced. */
interface BunListenerHandle {
  reload(o: { socket: Bun.SocketHandler<SocketData> }): void;
}

const useNativeSockets = typeof Bun !== "undefined" && process.env.MESHLET_TLS_LISTENER !== "node";

/**
 * Under Bun, swaps the node:net socket objects of a listening node:tls server for meshlet's own
 * handlers on the native sockets: TLS, client verification and setSecureContext stay Bun's, and
 * each request skips a stream layer (~18k instructions per request on the callee; decisions.md).
 * Bun.listen's own TLS cannot change its certificate while listening, which rotation needs.
 */
function nativeSockets(server: tls.Server, conns: ServerConns, opts: ServerOptions, refused: RefusedHandshake, onHandshake: Handshake): void {
  const handle = (server as unknown as { _handle?: Partial<BunListenerHandle> })._handle;
  if (typeof handle?.reload !== "function") return; // not the Bun we know: the node:tls path serves
  handle.reload({
    socket: serverSocketHandlers(conns, opts, {
      handshakeTimeoutS: HANDSHAKE_TIMEOUT_MS / 1000,
      onHandshake(s, ok, error) {
        // `ok` says the handshake completed; `error` that the client's certificate did not verify
        // (Bun reports both and then closes): either one refuses the connection.
        if (!ok || error) {
          refused(s.remoteAddress, (error as { code?: string } | null)?.code ?? error?.message ?? "handshake failed");
          return null;
        }
        onHandshake("server");
        const identity = spiffeFromAltNames(s.getPeerCertificate()?.subjectaltname) ?? undefined;
        return { address: s.remoteAddress, port: s.remotePort, identity };
      },
    }),
  });
}

export function mtlsTransport(creds: TlsCredentials, onRefused: RefusedHandshake = () => {}, onHandshake: Handshake = () => {}): InternalTransport {
  const listen: Listen = async ({ host, port, handler, maxHeaderBytes }) => {
    const opts = { handler, maxHeaderBytes };
    const server = tls.createServer({
      ...serverContext(creds.current()),
      requestCert: true,
      rejectUnauthorized: true,
      allowHalfOpen: true,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    const off = creds.onChange((m) => server.setSecureContext(serverContext(m)));
    const conns = new ServerConns();
    server.on("secureConnection", (s) => {
      onHandshake("server");
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
    if (useNativeSockets) nativeSockets(server, conns, opts, onRefused, onHandshake);
    const address = server.address();
    return {
      host,
      port: typeof address === "object" && address ? address.port : port,
      async close(force) {
        off();
        server.close();
        await conns.close(force);
      },
      tunnels: () => conns.tunnels(),
    };
  };

  const tlsConnect = typeof Bun !== "undefined" && process.env.MESHLET_TLS_DIALER !== "node" ? bunTlsConnector(creds) : nodeTlsConnector(creds);
  const connect: typeof tlsConnect = async (ep, ctx, release) => {
    const conn = await tlsConnect(ep, ctx, release);
    onHandshake("client");
    return conn;
  };

  return {
    name: "mtls",
    listen,
    dialer(opts: DialerOptions = {}) {
      // Pools per address and target: a connection proven for one app-id never carries another's
      // calls. Idle ones are kept 30 s (a peer sidecar keeps them 255 s): a handshake costs more
      // than an idle socket.
      const d = pooledDialer(connect, (ep, appId, namespace) => `${ep.key} ${namespace}/${appId}`, PEER_IDLE_MS, opts.connectTimeoutMs);
      const off = creds.onChange(() => d.flush());
      return {
        dial: d.dial,
        connections: () => d.connections(),
        async close() {
          off();
          await d.close();
        },
      };
    },
  };
}
