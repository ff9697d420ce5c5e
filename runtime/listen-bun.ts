// Bun adapter: listeners on Bun.listen serving HTTP/1.1 with meshlet's own connection handling
// (h1-server.ts), and the event-loop socket dialer. Not Bun.serve: it resolves dot segments before
// the handler sees the target, drops pipelined requests and cannot show a client certificate
// (docs/decisions.md has the measurements).

import type { Listen, Runtime } from "./listen.ts";
import { PortInUseError } from "./listen.ts";
import { ServerConn } from "../http1/h1-server.ts";
import type { ServerOptions } from "../http1/server-contract.ts";
import type { Peer } from "../core/incoming.ts";
import { ServerConns } from "../http1/server-conns.ts";
import { fetchDialer } from "./dial-fetch.ts";
import { socketDialer } from "./dial-socket.ts";

export interface SocketData {
  conn: ServerConn | null;
}

/**
 * The socket handlers that drive one ServerConn per accepted socket. With TLS (`tls`) the
 * connection starts at the handshake, once the peer is verified, and `onHandshake` says who it
 * is (null refuses the socket).
 */
export function serverSocketHandlers(
  conns: ServerConns,
  opts: ServerOptions,
  tls?: { handshakeTimeoutS: number; onHandshake(s: Bun.Socket<SocketData>, ok: boolean, error: Error | null): Peer | null },
): Bun.SocketHandler<SocketData> {
  const start = (s: Bun.Socket<SocketData>, peer: Peer) => {
    const conn = new ServerConn(s, peer, opts);
    conns.add(conn);
    s.data = { conn };
  };
  const handlers: Bun.SocketHandler<SocketData> = {
    open(s) {
      s.setNoDelay(true);
      if (tls) {
        s.data = { conn: null };
        s.timeout(tls.handshakeTimeoutS);
      } else start(s, { address: s.remoteAddress, port: s.remotePort });
    },
    data(s, chunk) {
      s.data.conn?.onData(chunk);
    },
    drain(s) {
      s.data.conn?.onDrain();
    },
    end(s) {
      if (s.data.conn) s.data.conn.onEnd();
      else s.end();
    },
    close(s) {
      s.data.conn?.onClose();
    },
    error(s) {
      s.data.conn?.onClose();
    },
  };
  if (tls) {
    handlers.handshake = (s, ok, error) => {
      const peer = tls.onHandshake(s, ok, error);
      if (!peer) return s.terminate();
      s.timeout(0); // from here on the connection's own idle and head timeouts apply
      start(s, peer);
    };
    // A client that connects and never completes a handshake holds no socket for long.
    handlers.timeout = (s) => {
      if (!s.data.conn) s.terminate();
    };
  }
  return handlers;
}

export const listenBun: Listen = async ({ host, port, handler, maxHeaderBytes }) => {
  const conns = new ServerConns();
  let listener: Bun.TCPSocketListener<SocketData>;
  try {
    listener = Bun.listen<SocketData>({
      hostname: host,
      port,
      exclusive: true,
      // A client that half-closes after its request still gets the answer.
      allowHalfOpen: true,
      socket: serverSocketHandlers(conns, { handler, maxHeaderBytes }),
    });
  } catch (e) {
    void conns.close(true);
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE" || /in use|EADDRINUSE/i.test(String((e as Error).message))) throw new PortInUseError(host, port);
    throw e;
  }
  return {
    host,
    port: listener.port,
    async close(force) {
      listener.stop(force);
      await conns.close(force);
    },
    tunnels: () => conns.tunnels(),
  };
};

/** Requests leave on the event loop's own sockets; MESHLET_DIALER=fetch switches back to Bun's fetch. */
export const bunRuntime: Runtime = {
  name: "bun",
  listen: listenBun,
  dialer: process.env.MESHLET_DIALER === "fetch" ? fetchDialer : socketDialer,
  collectGarbage: () => Bun.gc(true),
};
