// Bun adapter: listeners on Bun.listen serving HTTP/1.1 with meshlet's own connection handling
// (h1-server.ts), and the event-loop socket dialer. Not Bun.serve: it resolves dot segments before
// the handler sees the target, drops pipelined requests and cannot show a client certificate
// (docs/decisions.md has the measurements).

import type { Listen, Runtime } from "./listen.ts";
import { PortInUseError } from "./listen.ts";
import { ServerConn } from "../http1/h1-server.ts";
import { fetchDialer } from "./dial-fetch.ts";
import { socketDialer } from "./dial-socket.ts";

interface SocketData {
  conn: ServerConn | null;
}

/** How often idle and stalled connections are looked for. */
const SWEEP_MS = 1_000;

export const listenBun: Listen = async ({ host, port, handler, maxHeaderBytes }) => {
  const conns = new Set<ServerConn>();
  const opts = { handler, maxHeaderBytes };
  let listener: Bun.TCPSocketListener<SocketData>;
  try {
    listener = Bun.listen<SocketData>({
      hostname: host,
      port,
      exclusive: true,
      // A client that half-closes after its request still gets the answer.
      allowHalfOpen: true,
      socket: {
        open(s) {
          s.setNoDelay(true);
          const conn = new ServerConn(s, { address: s.remoteAddress, port: s.remotePort }, opts);
          conn.onGone = () => conns.delete(conn);
          conns.add(conn);
          s.data = { conn };
        },
        data(s, chunk) {
          s.data.conn?.onData(chunk);
        },
        drain(s) {
          s.data.conn?.onDrain();
        },
        end(s) {
          s.data.conn?.onEnd();
        },
        close(s) {
          s.data.conn?.onClose();
        },
        error(s) {
          s.data.conn?.onClose();
        },
      },
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE" || /in use|EADDRINUSE/i.test(String((e as Error).message))) throw new PortInUseError(host, port);
    throw e;
  }
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const c of conns) c.sweep(now);
  }, SWEEP_MS);
  sweeper.unref();
  let waiters: (() => void)[] = [];
  const settle = () => {
    if (conns.size > 0) return;
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  };
  return {
    host,
    port: listener.port,
    async close(force) {
      clearInterval(sweeper);
      listener.stop(force);
      for (const c of conns) {
        const gone = c.onGone;
        c.onGone = () => {
          gone();
          settle();
        };
        if (force) c.terminate();
        else c.drain();
      }
      // Forced: sockets are gone once terminated; graceful: wait for the last answer.
      if (!force && conns.size > 0) await new Promise<void>((r) => waiters.push(r));
    },
  };
};

/** Requests leave on the event loop's own sockets; MESHLET_DIALER=fetch switches back to Bun's fetch. */
export const bunRuntime: Runtime = {
  name: "bun",
  listen: listenBun,
  dialer: process.env.MESHLET_DIALER === "fetch" ? fetchDialer : socketDialer,
};
