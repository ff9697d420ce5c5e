// `npm run demo`: two apps calling each other by app-id through two meshlet sidecars on this
// host (local registry, no server, no multicast), with prefixed output, then a clean stop.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../cli/ports.ts";

const root = path.resolve(import.meta.dirname, "..");
const meshlet = path.join(root, "bin", "meshlet");
const home = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-demo-"));

function start(appId: string, script: string, appPort: number) {
  const child = spawn(meshlet, ["run", "--app-id", appId, "--app-port", String(appPort), "--", "node", path.join(root, "demo", script)], {
    env: { ...process.env, MESHLET_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tag = `[${appId}]`.padEnd(11);
  for (const stream of [child.stdout, child.stderr]) {
    let buf = "";
    stream.on("data", (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        process.stdout.write(`${tag} ${buf.slice(0, i)}\n`);
        buf = buf.slice(i + 1);
      }
    });
  }
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  return { child, exited };
}

console.log("meshlet demo: checkout -> orders -> checkout, by app-id, through two sidecars\n");
const orders = start("orders", "orders.mjs", await freePort());
const checkout = start("checkout", "checkout.mjs", await freePort());
const timer = setTimeout(() => {
  console.error("demo timed out after 60 s");
  checkout.child.kill("SIGTERM");
}, 60_000);
const code = await checkout.exited;
clearTimeout(timer);
orders.child.kill("SIGTERM");
await orders.exited;
fs.rmSync(home, { recursive: true, force: true });
console.log(code === 0 ? "\ndemo finished: both apps and both sidecars stopped cleanly" : `\ndemo failed (checkout exited ${code})`);
process.exit(code);
