// A real Redis (Debian's `redis-server`) for tests: on a free loopback port, no persistence, an
// optional password; stopped and restarted on the same port to test reconnects.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { serverCerts } from "./tls.ts";
import { freePort, spawnProc, StopWaiting, waitFor, type Proc } from "./helpers.ts";

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
  /** With TLS: the PEM CA that signed the server's certificate (IP SAN 127.0.0.1). */
  readonly caPem?: string;
  /** redis-cli against this server; returns its output. */
  cli(...args: string[]): string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A redis-server on a free port; `tls`: TLS only (no plain port), server certificate signed by a fresh CA. */
export async function startRedis(password?: string, o: { tls?: boolean } = {}): Promise<Redis> {
  const port = await freePort();
  const certs = o.tls ? serverCerts() : null;
  // Kept for restarts (start() reads them again); gone when the test process ends.
  if (certs) process.once("exit", () => fs.rmSync(certs.dir, { recursive: true, force: true }));
  const listen = certs
    ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", certs.cert, "--tls-key-file", certs.key, "--tls-ca-cert-file", certs.ca, "--tls-auth-clients", "no"]
    : ["--port", String(port)];
  const args = [...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--enable-debug-command", "local", ...(password ? ["--requirepass", password] : [])];
  const auth = password ? ["-a", password, "--no-auth-warning"] : [];
  const tlsCli = certs ? ["--tls", "--cacert", certs.ca] : [];
  const cli = (...a: string[]) => execFileSync("redis-cli", ["-p", String(port), ...tlsCli, ...auth, ...a], { encoding: "utf8" });
  const up = async (): Promise<Proc> => {
    const proc = spawnProc("redis-server", args);
    await waitFor("redis to answer", async () => {
      if (proc.child.exitCode !== null) throw new StopWaiting(`redis-server exited:\n${proc.output()}`);
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
    caPem: certs ? fs.readFileSync(certs.ca, "utf8") : undefined,
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
