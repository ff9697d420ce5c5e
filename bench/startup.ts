// Start-up time of a sidecar to a ready /v1.0/healthz, for each meshlet command given (the
// sources through bin/meshlet, the single binary dist/meshlet), with the binary's size:
// `npm run bench:startup [-- --runs 10]`. Reported, never asserted.

import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { quantile } from "../cli/quantile.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 10;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function once(cmd: string): Promise<number> {
  const port = await freePort();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-startup-"));
  const t0 = performance.now();
  const child = spawn(cmd, ["run", "-a", "startup", "-H", String(port), "--enable-metrics=false"], { env: { ...process.env, MESHLET_HOME: home }, stdio: "ignore" });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${cmd} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/v1.0/healthz`).then((r) => r.status === 204, () => false);
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    fs.rmSync(home, { recursive: true, force: true });
  }
}

const commands: Array<[string, string]> = [["bin/meshlet (sources on the pinned Bun)", path.join(ROOT, "bin", "meshlet")]];
const binary = path.join(ROOT, "dist", "meshlet");
if (fs.existsSync(binary)) commands.push([`dist/meshlet (single binary, ${(fs.statSync(binary).size / 1e6).toFixed(1)} MB)`, binary]);
else console.log("dist/meshlet not built (npm run build): measuring the sources only");
for (const [label, cmd] of commands) {
  await once(cmd); // warm the page cache
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once(cmd));
  times.sort((a, b) => a - b);
  console.log(`${label}: to a ready healthz p50 ${quantile(times, 50)!.toFixed(0)} ms, p90 ${quantile(times, 90)!.toFixed(0)} ms (${runs} starts, mTLS on, first certificate included)`);
}
