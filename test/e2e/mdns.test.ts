// mDNS discovery across three hosts: network namespaces joined by veth pairs, made by this test
// (multicast never leaves on the machine's real interfaces). One caller, two instances of one
// app-id; goodbye on stop, SIGKILL, restart on a new port, and the two kinds of failure.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { testCa } from "../certs.ts";
import { ECHO_APP, killAll, MESHLET, sleep, spawnProc, tempHome, trackPid, waitFor, type Proc, expectOutput } from "../helpers.ts";
import { canUseNetns, Netns } from "../netns.ts";

const can = canUseNetns();
const net = new Netns();
let A = "";
let B = "";
let C = "";
let config = "";
// Each sidecar has its own MESHLET_HOME (its own "host"): they share one CA's trust anchors and
// issuer through Dapr's variables, as Dapr's self-hosted mTLS guide exports them.
const trust = (await testCa()).env;

function sidecar(ns: string, appId: string, args: string[], appPort?: number): Proc {
  const cmd = ["netns", "exec", ns, MESHLET, "run", "-a", appId, "-c", config, "--log-level", "debug", ...args];
  if (appPort) cmd.push("-p", String(appPort), "--", "node", ECHO_APP);
  return spawnProc("ip", cmd, { MESHLET_HOME: tempHome(), APP_ID: appId, ...trust });
}

function curl(ns: string, url: string): { status: number; reason: string | null; body: string } {
  const out = net.exec(ns, ["curl", "-s", "-m", "5", "-D", "-", url]);
  const [head, ...rest] = out.split("\r\n\r\n");
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head!)?.[1] ?? 0);
  const reason = /meshlet-reason: (\S+)/i.exec(head!)?.[1] ?? null;
  return { status, reason, body: rest.join("\r\n\r\n") };
}

const call = () => {
  const r = curl(A, "http://127.0.0.1:3500/v1.0/invoke/inventory/method/where");
  return { ...r, port: r.status === 200 ? (JSON.parse(r.body) as { port: number }).port : null };
};

async function ready(ns: string, port: number, path = "/v1.0/healthz"): Promise<void> {
  await waitFor(`sidecar in ${ns}`, async () => curl(ns, `http://127.0.0.1:${port}${path}`).status === 204, 15_000);
  // The app runs in its own process group: track it so a SIGKILLed sidecar leaves no orphan.
  const md = JSON.parse(curl(ns, `http://127.0.0.1:${port}/v1.0/metadata`).body) as { extended: Record<string, string> };
  if (md.extended.appPID) trackPid(Number(md.extended.appPID));
}

describe.skipIf(!can.ok)(`mDNS across network namespaces${can.ok ? "" : ` (skipped: ${can.why})`}`, () => {
  let b: Proc;
  let c: Proc;

  beforeAll(async () => {
    A = net.host("a");
    B = net.host("b");
    C = net.host("c");
    net.link(A, "10.213.1.1/24", B, "10.213.1.2/24", "ab");
    net.link(A, "10.213.2.1/24", C, "10.213.2.2/24", "ac");
    config = path.join(tempHome(), "mdns.yaml");
    fs.writeFileSync(
      config,
      "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: mdns}\nspec:\n  nameResolution:\n    component: mdns\n    configuration:\n      interfaces: [10.213.0.0/16]\n",
    );
    b = sidecar(B, "inventory", ["-H", "3500", "-I", "50002"], 3001);
    c = sidecar(C, "inventory", ["-H", "3500", "-I", "50002"], 3002);
    sidecar(A, "shop", ["-H", "3500"]);
    await Promise.all([ready(B, 3500), ready(C, 3500), ready(A, 3500, "/v1.0/healthz/outbound")]);
  }, 60_000);

  afterAll(async () => {
    await killAll();
    net.destroy();
  });

  it("finds both instances of one app-id on two interfaces and spreads calls", async () => {
    // Discovery takes a moment on a busy machine (an answer after the first query's window is
    // picked up by its follow-up a second later); every call succeeds meanwhile.
    const ports = new Set<number | null>();
    const t0 = Date.now();
    while (ports.size < 2 && Date.now() - t0 < 5_000) {
      const r = call();
      expect([r.status, r.reason]).toEqual([200, null]);
      ports.add(r.port);
    }
    expect(ports).toEqual(new Set([3001, 3002]));
    // Both keep getting calls. The balancer weighs latency: on a busy machine one slow answer
    // keeps an instance out for the few hundred ms its cost takes to decay, so look over 3 s.
    const spread = new Set<number | null>();
    const t1 = Date.now();
    while (spread.size < 2 && Date.now() - t1 < 3_000) spread.add(call().port);
    expect(spread).toEqual(new Set([3001, 3002]));
  });

  it("logs the interfaces it chose and why", async () => {
    await expectOutput(b, /name resolution: mdns: selected by .*interfaces .*\(10\.213\.1\.2\)/);
  });

  it("drops a stopped instance at once on its goodbye: no failed call", async () => {
    process.kill(b.pid, "SIGTERM");
    await b.exited;
    for (let i = 0; i < 20; i++) {
      const r = call();
      expect([r.status, r.port]).toEqual([200, 3002]);
    }
  });

  it("finds an instance restarted on a new port within 1 s", async () => {
    b = sidecar(B, "inventory", ["-H", "3500", "-I", "50003"], 3003);
    await ready(B, 3500);
    const t0 = Date.now();
    let seen = false;
    while (Date.now() - t0 < 1000 && !seen) seen = call().port === 3003;
    expect(seen).toBe(true);
  });

  it("moves calls off an instance killed with SIGKILL after at most one failed attempt", async () => {
    process.kill(c.pid, "SIGKILL");
    await c.exited;
    const results = Array.from({ length: 20 }, () => call());
    expect(results.filter((r) => r.status !== 200).length).toBeLessThanOrEqual(1);
    expect(results.slice(-10).map((r) => r.port)).toEqual(Array(10).fill(3003));
  });

  it("meshlet doctor checks multicast per interface and each app-id, with a diagnosis", () => {
    let out = "";
    try {
      out = net.exec(A, [MESHLET, "doctor", "-c", config, "-a", "inventory", "-a", "nobody"], 20_000);
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? "");
    }
    expect(out).toMatch(/^resolver: mdns, because selected by/m);
    expect(out).toMatch(/ 10\.213\.1\.1: multicast sent and received/);
    expect(out).toMatch(/ 10\.213\.2\.1: multicast sent and received/);
    expect(out).toMatch(/inventory: resolved in [\d.]+ ms to 10\.213\.\d\.2:5000\d/);
    expect(out).toMatch(/nobody: app_id_not_found/);
    expect(out).toMatch(/diagnosis: nobody does not resolve \(app_id_not_found\)/);
    expect(out).toContain("fix: nobody is unknown to the mdns resolver: start it with `meshlet run -a nobody`");
  });

  it("works over IPv6 alone", async () => {
    const F = net.host("f");
    const G = net.host("g");
    net.link(F, "fd00:213:9::1/64", G, "fd00:213:9::2/64", "fg");
    const v6 = path.join(tempHome(), "mdns6.yaml");
    fs.writeFileSync(v6, "kind: Configuration\nspec:\n  nameResolution:\n    component: mdns\n    configuration:\n      ipv6: true\n      interfaces: [fd00:213::/32]\n");
    const at = (ns: string, appId: string, args: string[], appPort?: number) => {
      const cmd = ["netns", "exec", ns, MESHLET, "run", "-a", appId, "-c", v6, ...args];
      if (appPort) cmd.push("-p", String(appPort), "--", "node", ECHO_APP);
      return spawnProc("ip", cmd, { MESHLET_HOME: tempHome(), APP_ID: appId, ...trust });
    };
    at(G, "sixer", ["-H", "3500", "-I", "50002"], 3006);
    at(F, "caller6", ["-H", "3500"]);
    await Promise.all([ready(G, 3500), ready(F, 3500, "/v1.0/healthz/outbound")]);
    const r = curl(F, "http://127.0.0.1:3500/v1.0/invoke/sixer/method/v6");
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { port: number; headers: Record<string, string> }).port).toBe(3006);
  });

  it("tells an unknown app-id apart from a network where nobody answers", async () => {
    const unknown = curl(A, "http://127.0.0.1:3500/v1.0/invoke/nobody/method/x");
    expect([unknown.status, unknown.reason]).toEqual([500, "app_id_not_found"]);
    expect(unknown.body).toMatch(/other sidecar\(s\) answered/);

    const D = net.host("d");
    net.link(D, "10.213.9.1/24", net.host("e"), "10.213.9.2/24", "de");
    sidecar(D, "lonely", ["-H", "3500"]);
    await ready(D, 3500, "/v1.0/healthz/outbound");
    const silent = curl(D, "http://127.0.0.1:3500/v1.0/invoke/inventory/method/x");
    expect([silent.status, silent.reason]).toEqual([500, "resolution_timeout"]);
    expect(silent.body).toMatch(/no instance answered within \d+ ms on interfaces \S+ \(10\.213\.9\.1\)/);
    await sleep(10);
  });
});
