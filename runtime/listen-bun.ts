// Bun adapter: listeners on Bun.listen serving HTTP/1.1 with meshlet's own connection handling
// (h1-server.ts), and the event-loop socket dialer. Not Bun.serve: it resolves dot segments before
// the handler sees the target, drops pipelined requests and cannot show a client certificate
// (docs/decisions.md has the measurements).

import type { Listen, Runtime } from "./listen.ts";
import { PortInUseError } from "./listen.ts";
import { ServerConn } from "../http1/h1-server.ts";
import { ServerConns } from "../http1/server-conns.ts";
import { fetchDialer } from "./dial-fetch.ts";
import { socketDialer } from "./dial-socket.ts";

interface SocketData {
  conn: ServerConn | null;
}

export const listenBun: Listen = async ({ host, port, handler, maxHeaderBytes }) => {
  const conns = new ServerConns();
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
  };
};

/** Requests leave on the event loop's own sockets; MESHLET_DIALER=fetch switches back to Bun's fetch. */
export const bunRuntime: Runtime = {
  name: "bun",
  listen: listenBun,
  dialer: process.env.MESHLET_DIALER === "fetch" ? fetchDialer : socketDialer,
};
