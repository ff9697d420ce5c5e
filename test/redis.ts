// A real Redis (Debian's `redis-server`) for tests: on a free loopback port, no persistence, an
// optional password; stopped and restarted on the same port to test reconnects.

import { execFileSync } from "node:child_process";
import { freePort, spawnProc, waitFor, type Proc } from "./helpers.ts";

export function hasRedis(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface Redis {
  readonly port: number;
  readonly address: string;
  proc: Proc;
  /** redis-cli against this server; returns its output. */
  cli(...args: string[]): string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(password?: string): Promise<Redis> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...(password ? ["--requirepass", password] : [])];
  const auth = password ? ["-a", password, "--no-auth-warning"] : [];
  const cli = (...a: string[]) => execFileSync("redis-cli", ["-p", String(port), ...auth, ...a], { encoding: "utf8" });
  const up = async (): Promise<Proc> => {
    const proc = spawnProc("redis-server", args);
    await waitFor("redis to answer", async () => {
      if (proc.child.exitCode !== null) throw new Error(`redis-server exited:\n${proc.output()}`);
      try {
        return cli("PING").trim() === "PONG";
      } catch {
        return false;
      }
    });
    return proc;
  };
  const r: Redis = {
    port,
    address: `127.0.0.1:${port}`,
    proc: await up(),
    cli,
    async stop() {
      r.proc.child.kill("SIGKILL");
      await r.proc.exited;
    },
    async start() {
      r.proc = await up();
    },
  };
  return r;
}
