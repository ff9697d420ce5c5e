// The open connections of one listener, whatever accepts them (Bun.listen, node:tls): one sweep
// timer for their idle and stalled-request timeouts, and the graceful or forced close that waits
// for the last answer.

import type { ServerConn } from "./h1-server.ts";

/** How often idle and stalled connections are looked for. */
const SWEEP_MS = 1_000;

export class ServerConns {
  private readonly conns = new Set<ServerConn>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private waiters: (() => void)[] = [];

  constructor() {
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const c of this.conns) c.sweep(now);
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  add(conn: ServerConn): void {
    conn.onGone = () => {
      this.conns.delete(conn);
      this.settle();
    };
    this.conns.add(conn);
  }

  private settle(): void {
    if (this.conns.size > 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** How many of its connections are WebSocket tunnels now (read at scrape time, not per request). */
  tunnels(): number {
    let n = 0;
    for (const c of this.conns) if (c.tunnelling) n++;
    return n;
  }

  /** Forced: drops every connection; graceful: lets each finish its answers, then resolves. */
  async close(force: boolean): Promise<void> {
    clearInterval(this.sweeper);
    for (const c of [...this.conns]) {
      if (force) c.terminate();
      else c.drain();
    }
    if (!force && this.conns.size > 0) await new Promise<void>((r) => this.waiters.push(r));
  }
}
