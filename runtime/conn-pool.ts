// Keep-alive HTTP/1.1 connection pools per endpoint, runtime-neutral: a Connector opens one
// connection (plain Bun.connect, or mTLS on node:tls with the peer's identity checked) and the
// pool reuses it, sweeps idle ones and resends a safe request once when a reused one was closed.

import { DEFAULT_CONNECT_TIMEOUT_MS, type DialContext, type Dialer } from "./dial.ts";
import { connectTimedOut } from "../core/connection-error.ts";
import type { CallSignal, Endpoint, ProxyRequest } from "../core/call.ts";
import { ConnectionError, H1Conn } from "../http1/h1-conn.ts";
import { safeToRepeat } from "../core/idempotent.ts";

/** Idle connections older than this are closed (servers commonly drop them at 5 s). */
const IDLE_MS = 3_000;
/** Idle connections kept per endpoint; more are closed when released. */
const MAX_IDLE = 256;
/** A pool unused this long is dropped (endpoints come and go as instances restart). */
const POOL_TTL_MS = 60_000;

/**
 * Opens one connection to `ep` for the call in `ctx` (whose app-id a verifying connector checks);
 * `release` gives it back to the pool after a clean exchange.
 */
export type Connector = (ep: Endpoint, ctx: DialContext, release: (c: H1Conn) => void) => Promise<H1Conn>;

class Pool {
  readonly idle: H1Conn[] = [];
  lastUsed = performance.now();
  /** Set once dropped from the map: connections released later are closed, not kept. */
  retired = false;
  private readonly give = (c: H1Conn): void => {
    if (this.retired || this.idle.length >= MAX_IDLE) return c.destroy();
    c.idleSince = this.lastUsed = performance.now();
    this.idle.push(c);
  };

  constructor(
    private readonly ep: Endpoint,
    private readonly connector: Connector,
    private readonly idleMs: number,
  ) {}

  take(): H1Conn | null {
    this.lastUsed = performance.now();
    for (;;) {
      const c = this.idle.pop();
      if (!c) return null;
      if (c.alive) return c;
    }
  }

  connect(ctx: DialContext): Promise<H1Conn> {
    return this.connector(this.ep, ctx, this.give);
  }

  sweep(now: number): void {
    let keep = 0;
    for (const c of this.idle) {
      if (c.alive && now - c.idleSince < this.idleMs) this.idle[keep++] = c;
      else c.destroy();
    }
    this.idle.length = keep;
  }

  retire(): void {
    this.retired = true;
    for (const c of this.idle.splice(0)) c.destroy();
  }
}

/** A request that may go out again on a fresh connection when a reused one turns out closed. */
function resendable(req: ProxyRequest, e: ConnectionError): boolean {
  if (!e.nothingReceived || (req.body !== null && !(req.body instanceof Uint8Array))) return false;
  return e.nothingSent || safeToRepeat(req.method, req.headers);
}

export interface PooledDialer extends Dialer {
  /** Closes every idle connection, so the next requests open new ones (new credentials, say). */
  flush(): void;
  connections(): { open: number; idle: number };
}

/**
 * A Dialer over `connector`. `keyOf` names the pool a request uses: a connection proven for one
 * identity is never reused for another at the same address.
 */
export function pooledDialer(
  connector: Connector,
  keyOf: (ep: Endpoint, appId: string, namespace: string) => string,
  /** How long an idle connection is kept: short for apps (they close at ~5 s), longer for peer sidecars (255 s). */
  idleMs = IDLE_MS,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): PooledDialer {
  const pools = new Map<string, Pool>();
  let open = 0;
  const closed = () => void open--;
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
      const key = keyOf(ep, ctx.appId, ctx.namespace);
      let pool = pools.get(key);
      if (!pool) pools.set(key, (pool = new Pool(ep, connector, idleMs)));
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
      const t0 = performance.now();
      const conn = await within(pool.connect(ctx), connectTimeoutMs, ep.key);
      if (conn.alive) {
        open++;
        conn.onGone = closed;
      }
      ctx.connectMs = performance.now() - t0;
      return conn.request(req, ep.key, signal);
    },
    connections() {
      let idle = 0;
      for (const p of pools.values()) idle += p.idle.length;
      return { open, idle };
    },
    flush() {
      for (const [key, p] of pools) {
        p.retire();
        pools.delete(key);
      }
    },
    async close() {
      clearInterval(sweeper);
      this.flush();
    },
  };
}

/** Waits up to `ms` for a new connection; one that comes later is closed. */
function within(p: Promise<H1Conn>, ms: number, where: string): Promise<H1Conn> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(connectTimedOut(where, ms));
    }, ms);
    p.then(
      (c) => {
        clearTimeout(timer);
        if (late) c.destroy();
        else resolve(c);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Waits for `p` unless `signal` aborts first; a connection made after that is closed. */
export function abortable<T extends { terminate(): void }>(p: Promise<T>, signal: CallSignal): Promise<T> {
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
