// Whether something accepts TCP connections at host:port: connect, then hang up at once. Used by
// the app's health probe and by the start-time check of trace collectors.

import net from "node:net";

/** Connects and hangs up: null when the connection was accepted, else why not (an errno code, or the timeout). */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (verdict: string | null) => {
      s.destroy();
      resolve(verdict);
    };
    s.setTimeout(timeoutMs, () => done(`no connection in ${timeoutMs} ms`));
    s.once("connect", () => done(null));
    s.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}
