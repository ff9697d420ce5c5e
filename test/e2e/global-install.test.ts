// The README's "your own app" steps as a new user runs them: meshlet installed on the PATH from
// the checkout (npm install -g, into a throwaway prefix), then, from an empty folder outside the
// checkout, a CommonJS app run, invoked, listed and stopped with the bare `meshlet` command.

import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, killAll, ROOT, spawnProc, tempHome, waitFor } from "../helpers.ts";

afterAll(killAll);

const APP = `// A CommonJS app, as many Dapr samples are: require, no "type": "module" anywhere near it.
const http = require("http");
http
  .createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ got: req.method + " " + req.url, body: body ? JSON.parse(body) : null }));
    });
  })
  .listen(Number(process.env.APP_PORT), "127.0.0.1", () => console.log("listening on " + process.env.APP_PORT));
`;

describe("meshlet from any folder", () => {
  it("installs with npm install -g from the checkout and runs the README's steps from an empty folder with a CommonJS app", async () => {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-prefix-"));
    execFileSync("npm", ["install", "-g", "--prefix", prefix, ROOT, "--no-audit", "--no-fund"], { stdio: "ignore" });
    const bin = path.join(prefix, "bin");
    expect(fs.existsSync(path.join(bin, "meshlet"))).toBe(true);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-myapp-"));
    expect(path.relative(ROOT, work).startsWith("..")).toBe(true);
    fs.writeFileSync(path.join(work, "app.js"), APP);
    const env = { PATH: `${bin}:${process.env.PATH}`, MESHLET_HOME: tempHome() };
    const meshlet = (args: string[]) => {
      const p = spawnProc("meshlet", args, env, work);
      return p.exited.then(({ code }) => ({ code, out: p.output() }));
    };
    const appPort = await freePort();
    const run = spawnProc("meshlet", ["run", "--app-id", "orders", "--app-port", String(appPort), "--", "node", "app.js"], env, work);
    await waitFor("orders to be ready", async () => {
      if (run.child.exitCode !== null) throw new Error(`meshlet run exited:\n${run.output()}`);
      const list = await meshlet(["list", "-o", "json"]);
      const row = (JSON.parse(list.out) as Array<{ appId: string; httpPort: number }>).find((r) => r.appId === "orders");
      return row && (await fetch(`http://127.0.0.1:${row.httpPort}/v1.0/healthz`)).status === 204;
    });
    // The app's line travels through meshlet's == APP == prefixer: it may trail readiness a little.
    await waitFor("the app's first line", async () => run.output().includes(`== APP == listening on ${appPort}`));
    const invoked = await meshlet(["invoke", "--app-id", "orders", "--method", "neworder", "--data", '{"id":1}']);
    expect(invoked.code).toBe(0);
    expect(invoked.out).toContain('{"got":"POST /neworder","body":{"id":1}}');
    const table = await meshlet(["list"]);
    expect(table.out).toMatch(/^orders\s/m);
    const stopped = await meshlet(["stop", "--app-id", "orders"]);
    expect(stopped).toMatchObject({ code: 0, out: expect.stringContaining("app stopped successfully: orders") });
    expect((await run.exited).code).not.toBeNull();
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });
});
