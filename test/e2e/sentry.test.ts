// Sidecars on different "hosts" (separate MESHLET_HOMEs) get their certificates from `meshlet
// sentry` over real sockets: made with `meshlet certs init` and `meshlet sentry token create`,
// trusted through DAPR_TRUST_ANCHORS, the token through DAPR_SENTRY_TOKEN_FILE. A sentry that is
// down is waited for (the log names it); a token for another namespace is a one-line refusal.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { ECHO_APP, freePort, killAll, MESHLET, spawnProc, startSidecar, StopWaiting, tempFile, tempHome, trackPid, waitFor, type Proc, expectOutput } from "../helpers.ts";

let ca: string;
let sentry: Proc | null = null;
let sentryPort: number;
let trust: string;
const cli = (args: string[]) => execFileSync(MESHLET, args, { encoding: "utf8", env: { ...process.env, MESHLET_HOME: tempHome() } });
const token = (ns: string, app = "*") => {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tok-")), "token");
  fs.writeFileSync(f, cli(["sentry", "token", "create", "--namespace", ns, "--app-id", app, "--issuer-credentials", ca]), { mode: 0o600 });
  return f;
};
const corp = tempFile("corp.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: corp}\nspec:\n  accessControl:\n    trustDomain: corp\n");

function startSentry(): Proc {
  return spawnProc(MESHLET, ["sentry", "--issuer-credentials", ca, "--port", String(sentryPort), "--listen-address", "127.0.0.1"]);
}

beforeAll(async () => {
  ca = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-sentry-ca-")), "certs");
  const init = cli(["certs", "init", "--dir", ca, "--trust-domain", "corp", "--ttl", "90d"]);
  expect(init).toContain(`created a CA in ${ca}`);
  trust = fs.readFileSync(path.join(ca, "ca.crt"), "utf8");
  sentryPort = await freePort();
});
afterAll(killAll);

describe("meshlet sentry for several hosts", () => {
  it("a sidecar started before the sentry waits for it, naming the address, then gets its certificate", async () => {
    const env = { NAMESPACE: "shop", DAPR_TRUST_ANCHORS: trust, DAPR_SENTRY_TOKEN_FILE: token("shop") };
    const port = await freePort();
    const internal = await freePort();
    const appPort = await freePort();
    const args = ["run", "-a", "inventory", "-H", String(port), "-I", String(internal), "-p", String(appPort), "-c", corp, "--sentry-address", `127.0.0.1:${sentryPort}`, "--", "node", ECHO_APP];
    const early = spawnProc(MESHLET, args, { MESHLET_HOME: tempHome(), ...env });
    await waitFor("the sidecar to report the sentry down", async () => early.output().includes(`cannot reach the sentry at 127.0.0.1:${sentryPort}`));
    const running = startSentry();
    sentry = running;
    await waitFor("the sentry to listen", async () => {
      if (running.child.exitCode !== null) throw new StopWaiting(`the sentry exited:\n${running.output()}`);
      return running.output().includes("meshlet sentry on");
    });
    await waitFor("the sidecar to become healthy", async () => (await fetch(`http://127.0.0.1:${port}/v1.0/healthz`).catch(() => null))?.status === 204, 30_000);
    // The app runs in its own process group: tracked, so killAll leaves no orphan behind.
    const md = (await (await fetch(`http://127.0.0.1:${port}/v1.0/metadata`)).json()) as { extended: Record<string, string> };
    trackPid(Number(md.extended.appPID));
    await expectOutput(early, "mtls as spiffe://corp/ns/shop/inventory (sentry at 127.0.0.1:");

    // A caller on another "host", resolved statically to the first sidecar's internal port.
    const cfg = tempFile("static.yaml", fs.readFileSync(corp, "utf8") + `  nameResolution:\n    component: static\n    configuration:\n      apps:\n        inventory.shop: ["127.0.0.1:${internal}"]\n`);
    const caller = await startSidecar({ appId: "storefront", home: tempHome(), args: ["-c", cfg, "--sentry-address", `127.0.0.1:${sentryPort}`], env: { ...env, DAPR_SENTRY_TOKEN_FILE: token("shop", "store*") } });
    const r = await fetch(`${caller.url}/v1.0/invoke/inventory/method/items`);
    expect(r.status, await r.clone().text()).toBe(200);
    const seen = (await r.json()) as { headers: Record<string, string> };
    expect([seen.headers["dapr-caller-app-id"], seen.headers["dapr-caller-namespace"]]).toEqual(["storefront", "shop"]);
    await expectOutput(running, "signed a workload certificate");
  }, 60_000);

  it("refuses a sidecar whose token is for another namespace: one line, exit 1", async () => {
    const env = { NAMESPACE: "shop", DAPR_TRUST_ANCHORS: trust, DAPR_SENTRY_TOKEN_FILE: token("prod") };
    const p = spawnProc(MESHLET, ["run", "-a", "intruder", "-H", String(await freePort()), "-c", corp, "--sentry-address", `127.0.0.1:${sentryPort}`], { MESHLET_HOME: tempHome(), ...env });
    const code = await new Promise<number | null>((r) => p.child.once("exit", r));
    expect(code).toBe(1);
    const lines = p.output().trim().split("\n").filter((l) => l.includes("❌"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("refused to sign spiffe://corp/ns/shop/intruder (403): the token admits namespace prod, not shop");
    expect(p.output()).not.toMatch(/\n\s+at /);
  });

  it("leaves discovery when its certificate expires with the sentry gone, and comes back when it returns", async () => {
    const short = tempFile("short.yaml", fs.readFileSync(corp, "utf8") + "  mtls:\n    workloadCertTTL: 10s\n");
    const env = { NAMESPACE: "shop", DAPR_TRUST_ANCHORS: trust, DAPR_SENTRY_TOKEN_FILE: token("shop") };
    const s = await startSidecar({ appId: "ephemeral", home: tempHome(), echo: true, args: ["-c", short, "--sentry-address", `127.0.0.1:${sentryPort}`], env });
    const old = sentry!;
    process.kill(old.pid, "SIGTERM");
    await new Promise((r) => old.child.once("exit", r));
    const health = async () => {
      const r = await fetch(`${s.url}/v1.0/healthz`);
      return { status: r.status, body: await r.text() };
    };
    const down = await waitFor("the expired sidecar to report not ready", async () => {
      const h = await health();
      return h.status !== 204 ? h : null;
    }, 20_000);
    expect(down.body).toContain("expired at");
    await expectOutput(s, "sidecar taken out of discovery");
    sentry = startSentry();
    await waitFor("the sidecar to recover", async () => (await health()).status === 204, 40_000);
    await expectOutput(s, "sidecar back in discovery");
  }, 90_000);

  it("meshlet certs show, export and import move the trust bundle", () => {
    const show = cli(["certs", "show", "--dir", ca]);
    expect(show).toMatch(/root {4}CN=meshlet root corp/);
    expect(show).toMatch(/issuer {2}CN=meshlet issuer corp .*\((89|90) days\)/);
    expect(show).not.toContain("WARNING");
    expect(show).toMatch(/issuer\.key +mode 600/);
    const bundle = cli(["certs", "export", "--dir", ca]);
    expect(bundle).toBe(trust);
    const other = path.join(tempHome(), "certs");
    const file = tempFile("bundle.pem", bundle);
    expect(cli(["certs", "import", "--dir", other, file])).toContain("1 root(s) added, 0 kept");
    expect(cli(["certs", "import", "--dir", other, file])).toContain("0 root(s) added, 1 kept");
    expect(fs.readFileSync(path.join(other, "ca.crt"), "utf8").trim()).toBe(trust.trim());
  });
});
