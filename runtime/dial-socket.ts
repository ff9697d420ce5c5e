// Bun dialer on Bun.connect: plain HTTP/1.1 keep-alive connections driven from the main event
// loop (fetch hands every request to a separate HTTP thread and back, which cost ~35 % of a
// sidecar's CPU at 1,000 req/s; see docs/decisions.md). Pooling lives in conn-pool.ts.

import type { Dialer, DialerOptions } from "./dial.ts";
import { H1Conn } from "../http1/h1-conn.ts";
import { refusedBy } from "../core/connection-error.ts";
import { abortable, type Connector, pooledDialer } from "./conn-pool.ts";

interface SocketData {
  conn: H1Conn | null;
}

const isReset = (err: Error | undefined) => (err as { code?: string } | undefined)?.code === "ECONNRESET";

const handlers = {
  data(s: { data: SocketData }, chunk: Buffer) {
    s.data.conn?.onData(chunk);
  },
  drain(s: { data: SocketData }) {
    s.data.conn?.onDrain();
  },
  close(s: { data: SocketData }, err?: Error) {
    s.data.conn?.onClose(isReset(err));
  },
  end(s: { data: SocketData; end(): void }) {
    s.end();
  },
  error(s: { data: SocketData }, err: Error) {
    s.data.conn?.onClose(isReset(err));
  },
};

const connectBun: Connector = async (ep, { signal }, release) => {
  const data: SocketData = { conn: null };
  const connecting = Bun.connect<SocketData>({ hostname: ep.host, port: ep.port, data, socket: handlers });
  let socket: Awaited<typeof connecting>;
  try {
    socket = await abortable(connecting, signal);
  } catch (e) {
    // Typed where it is known: a refused connection provably carried nothing.
    if ((e as { code?: string } | null)?.code === "ECONNREFUSED") {
      throw refusedBy(ep.key);
    }
    throw e;
  }
  socket.setNoDelay(true);
  const conn = new H1Conn(socket, release);
  data.conn = conn;
  return conn;
};

export function socketDialer(opts: DialerOptions = {}): Dialer {
  return pooledDialer(connectBun, (ep) => (ep.identity === undefined ? ep.key : `${ep.key} ${ep.identity}`), undefined, opts.connectTimeoutMs);
}
