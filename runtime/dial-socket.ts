// Bun dialer on Bun.connect: HTTP/1.1 keep-alive connections per endpoint driven from the main
// event loop (fetch hands every request to a separate HTTP thread and back, which cost ~35 % of a
// sidecar's CPU at 1,000 req/s; see docs/decisions.md). No redirects, no decompression, no TLS yet.

import type { Dialer } from "./dial.ts";
import type { CallSignal, Endpoint, ProxyRequest } from "../core/call.ts";
import { ConnectionError, H1Conn } from "../http1/h1-conn.ts";
import { safeToRepeat } from "../core/idempotent.ts";

/** Idle connections older than this are closed (servers commonly drop them at 5 s). */
const IDLE_MS = 3_000;
/** Idle connections kept per endpoint; more are closed when released. */
const MAX_IDLE = 256;
/** A pool unused this long is dropped (endpoints come and go as instances restart). */
const POOL_TTL_MS = 60_000;

interface SocketData {
  conn: H1Conn | null;
}

const handlers = {
  data(s: { data: SocketData }, chunk: Buffer) {
    s.data.conn?.onData(chunk);
  },
  drain(s: { data: SocketData }) {
    s.data.conn?.onDrain();
  },
  close(s: { data: SocketData }) {
    s.data.conn?.onClose();
  },
  end(s: { data: SocketData; end(): void }) {
    s.end();
  },
  error(s: { data: SocketData }) {
    s.data.conn?.onClose();
  },
};

class Pool {
  readonly idle: H1Conn[] = [];
  lastUsed = performance.now();
  /** Set once dropped from the map: connections released later are closed, not kept. */
  retired = false;

  constructor(private readonly ep: Endpoint) {}

  take(): H1Conn | null {
    this.lastUsed = performance.now();
    for (;;) {
      const c = this.idle.pop();
      if (!c) return null;
      if (c.alive) return c;
    }
  }

  give(c: H1Conn): void {
    if (this.retired || this.idle.length >= MAX_IDLE) return c.destroy();
    c.idleSince = this.lastUsed = performance.now();
    this.idle.push(c);
  }

  async connect(signal: CallSignal): Promise<H1Conn> {
    const data: SocketData = { conn: null };
    const connecting = Bun.connect<SocketData>({ hostname: this.ep.host, port: this.ep.port, data, socket: handlers });
    let socket: Awaited<typeof connecting>;
    try {
      socket = await abortable(connecting, signal);
    } catch (e) {
      // Typed where it is known: a refused connection provably carried nothing.
      if ((e as { code?: string } | null)?.code === "ECONNREFUSED") {
        throw new ConnectionError(`connection refused by ${this.ep.key}`, "ECONNREFUSED", true, true);
      }
      throw e;
    }
    socket.setNoDelay(true);
    const conn = new H1Conn(socket, (c) => this.give(c));
    data.conn = conn;
    return conn;
  }

  sweep(now: number): void {
    let keep = 0;
    for (const c of this.idle) {
      if (c.alive && now - c.idleSince < IDLE_MS) this.idle[keep++] = c;
      else c.destroy();
    }
    this.idle.length = keep;
  }
}

/** Waits for `p` unless `signal` aborts first; a connection made after that is closed. */
function abortable<T extends { terminate(): void }>(p: Promise<T>, signal: CallSignal): Promise<T> {
  if (signal.aborted) {
    p.then((s) => s.terminate(), () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.then((s) => s.terminate(), () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (s) => {
        signal.removeEventListener("abort", onAbort);
        resolve(s);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** A request that may go out again on a fresh connection when a reused one turns out closed. */
function resendable(req: ProxyRequest, e: ConnectionError): boolean {
  if (!e.nothingReceived || (req.body !== null && !(req.body instanceof Uint8Array))) return false;
  return e.nothingSent || safeToRepeat(req.method, req.headers);
}

export function socketDialer(): Dialer {
  const pools = new Map<string, Pool>();
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [key, p] of pools) {
      p.sweep(now);
      if (p.idle.length === 0 && now - p.lastUsed > POOL_TTL_MS) {
        p.retired = true;
        pools.delete(key);
      }
    }
  }, 1_000);
  sweeper.unref();
  return {
    async dial(ep, req, ctx) {
      const signal = ctx.signal;
      // A connection proven for one identity is never reused for another at the same address.
      const key = ep.identity === undefined ? ep.key : `${ep.key} ${ep.identity}`;
      let pool = pools.get(key);
      if (!pool) pools.set(key, (pool = new Pool(ep)));
      const reused = pool.take();
      if (reused) {
        try {
          return await reused.request(req, ep.key, signal);
        } catch (e) {
          // The server closed the idle connection as we sent: nothing came back, so a request
          // that is safe to repeat goes out once more on a new connection.
          if (!(e instanceof ConnectionError && resendable(req, e))) throw e;
        }
      }
      const conn = await pool.connect(signal);
      return conn.request(req, ep.key, signal);
    },
    async close() {
      clearInterval(sweeper);
      for (const p of pools.values()) for (const c of p.idle.splice(0)) c.destroy();
      pools.clear();
    },
  };
}
