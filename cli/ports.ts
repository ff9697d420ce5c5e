// Free-port helper for the CLI, the demo and tests: a port that is free now, picked below the
// kernel's ephemeral range so outgoing connections (which draw from that range) cannot take it
// between the check and the bind. It cannot reserve the port; listeners bind 0 where they can.

import net from "node:net";

/** Below Linux's default ephemeral range (32768-60999). */
const LOW = 20_000;
const HIGH = 32_000;

function tryBind(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(null));
    s.listen(port, host, () => {
      const a = s.address();
      const got = typeof a === "object" && a ? a.port : null;
      s.close(() => resolve(got));
    });
  });
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryBind(LOW + Math.floor(Math.random() * (HIGH - LOW)), host);
    if (p !== null) return p;
  }
  const p = await tryBind(0, host);
  if (p === null) throw new Error(`no free port on ${host}`);
  return p;
}
