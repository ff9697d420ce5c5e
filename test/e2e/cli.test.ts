// The CLI as a user drives it: `meshlet run` env vars, lifecycle and exit codes, `list`,
// `invoke`, `stop`, and one clear line for every mistake.

import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { freePort, killAll, MESHLET, runRecord, spawnProc, startSidecar, tempFile, tempHome, waitFor, expectOutput } from "../helpers.ts";
import { canUseNetns } from "../netns.ts";
import { COMMAND_SPECS } from "../../cli/specs/index.ts";
import type { CommandSpec } from "../../cli/command-spec.ts";

afterAll(killAll);

async function cli(args: string[], home: string, env: NodeJS.ProcessEnv = {}) {
  const p = spawnProc(MESHLET, args, { MESHLET_HOME: home, ...env });
  const { code } = await p.exited;
  return { code, out: p.output() };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

describe("meshlet run", () => {
  it("gives the app Dapr's env vars and exits with the app's code", async () => {
    const home = tempHome();
    const appPort = await freePort();
    const script = `console.log("ENV=" + JSON.stringify({h: process.env.DAPR_HTTP_PORT, g: process.env.DAPR_GRPC_PORT, id: process.env.APP_ID, p: process.env.APP_PORT, m: process.env.DAPR_METRICS_PORT, c: process.env.APP_CHANNEL_ADDRESS, proto: process.env.APP_PROTOCOL, ftl: process.env.BUN_JSC_useFTLJIT ?? null, holes: process.env.MIMALLOC_PURGE_HOLES ?? null, set: process.env.MESHLET_SET_ENV ?? null, e: process.env.DAPR_HTTP_ENDPOINT, ge: process.env.DAPR_GRPC_ENDPOINT})); process.exit(3)`;
    const { code, out } = await cli(["run", "--app-id", "envy", "--app-port", String(appPort), "--", "node", "-e", script], home);
    expect(code).toBe(3);
    // As dapr run shows it: the app's lines prefixed.
    expect(out).toMatch(/^== APP == ENV=/m);
    const env = JSON.parse(/ENV=(.*)/.exec(out)![1]!) as Record<string, string>;
    const http = /HTTP Port: (\d+)\. gRPC Port: (\d+)/.exec(out)!;
    // The runtime settings bin/meshlet makes for the sidecar are not passed on to the app.
    expect(env).toMatchObject({ h: http[1], g: http[2], id: "envy", p: String(appPort), c: "127.0.0.1", proto: "http", ftl: null, holes: null, set: null });
    expect(Number(env.m)).toBeGreaterThan(0);
    expect([env.e, env.ge]).toEqual([`http://127.0.0.1:${http[1]}`, `http://127.0.0.1:${http[2]}`]);
    expect(out).toContain("The App process exited with error code: 3");
    expect(await listening(Number(http[1]))).toBe(false);
  });

  it("runs the sidecar with its runtime settings, keeps the user's own and passes only those to the app", async () => {
    const environ = (pid: number) => new Map(fs.readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    const s = await startSidecar({ appId: "tuned", home: tempHome(), echo: true, env: { MIMALLOC_PURGE_DELAY: "5000" } });
    try {
      const sidecar = environ(s.pid);
      expect(sidecar.get("BUN_JSC_useFTLJIT")).toBe("0");
      expect(sidecar.get("MIMALLOC_PURGE_HOLES")).toBe("0");
      expect(sidecar.get("MIMALLOC_PURGE_DELAY")).toBe("5000");
      const app = environ(s.appPid()!);
      expect(app.get("MIMALLOC_PURGE_DELAY")).toBe("5000");
      expect(app.has("MIMALLOC_PURGE_HOLES")).toBe(false);
      expect(app.has("BUN_JSC_useFTLJIT")).toBe(false);
      expect(app.has("MESHLET_SET_ENV")).toBe(false);
    } finally {
      process.kill(s.pid, "SIGTERM");
      await s.exited;
    }
  });

  it("stops the app and the sidecar on SIGINT", async () => {
    const home = tempHome();
    const s = await startSidecar({ appId: "ctrlc", home, echo: true });
    const appPid = s.appPid()!;
    process.kill(s.pid, "SIGINT");
    const { code } = await s.exited;
    expect(code).toBe(0);
    await expectOutput(s, "Exited App successfully");
    expect(() => process.kill(appPid, 0)).toThrow();
    expect(await listening(s.httpPort)).toBe(false);
  });

  it("stops on POST /v1.0/shutdown", async () => {
    const s = await startSidecar({ appId: "bye", home: tempHome(), echo: true });
    const r = await fetch(`${s.url}/v1.0/shutdown`, { method: "POST" });
    expect(r.status).toBe(204);
    expect((await s.exited).code).toBe(0);
  });

  it("serves the API on every --dapr-listen-addresses address", async () => {
    const s = await startSidecar({ appId: "dual", home: tempHome(), waitReady: false, args: ["--dapr-listen-addresses", "127.0.0.1,::1"] });
    expect((await fetch(`http://127.0.0.1:${s.httpPort}/v1.0/healthz/outbound`)).status).toBe(204);
    expect((await fetch(`http://[::1]:${s.httpPort}/v1.0/healthz/outbound`)).status).toBe(204);
  });

  it("inside a Kubernetes pod defaults to the kubernetes resolver and internal port 50002", async () => {
    const home = tempHome();
    const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1" };
    if (!canUseNetns().ok) {
      // Without root the sidecar runs on the host, where 50002 is usually but not surely free.
      await startSidecar({ appId: "podded", home, env });
      expect(runRecord(home, "podded").internalPort).toBe(50002);
      return;
    }
    // Like a pod, the sidecar gets a network namespace of its own: 50002 is in the host's
    // ephemeral range, where any outgoing connection may hold it for a while.
    const cmd = ["-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", MESHLET, "run", "-a", "podded", "-H", "3500"];
    const p = spawnProc("unshare", cmd, { MESHLET_HOME: home, ...env });
    await waitFor("the podded sidecar's run record", async () => {
      if (p.child.exitCode !== null) throw new Error(`exited early:\n${p.output()}`);
      return fs.existsSync(path.join(home, "runs")) && fs.readdirSync(path.join(home, "runs")).length > 0;
    });
    await expectOutput(p, "name resolution: kubernetes: no nameResolution in the configuration, running in a Kubernetes pod");
    const rec = runRecord(home, "podded");
    expect(rec.internalPort).toBe(50002);
    // The internal port really listens inside the namespace (mTLS: a TCP connect is the probe).
    const probe = ["-t", String(rec.pid), "-n", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/50002 && echo open"];
    expect(execFileSync("nsenter", probe, { encoding: "utf8" }).trim()).toBe("open");
  });

  it("starts two sidecars at once without -H: each gets a port, none fails", async () => {
    const home = tempHome();
    const a = spawnProc(MESHLET, ["run", "-a", "twin-a"], { MESHLET_HOME: home });
    const b = spawnProc(MESHLET, ["run", "-a", "twin-b"], { MESHLET_HOME: home });
    const port = (p: typeof a) => Number(/HTTP Port: (\d+)/.exec(p.output())?.[1] ?? 0);
    await waitFor("both sidecars to print their ports", async () => port(a) > 0 && port(b) > 0);
    expect(port(a)).not.toBe(port(b));
    // The port is printed as the listener opens; ready (registered) follows a moment later.
    for (const p of [a, b]) await waitFor(`${port(p)} ready`, async () => (await fetch(`http://127.0.0.1:${port(p)}/v1.0/healthz`)).status === 204);
  });

  it("refuses a port in use with Dapr's message", async () => {
    const home = tempHome();
    const s = await startSidecar({ appId: "first", home });
    const { code, out } = await cli(["run", "-a", "second", "-H", String(s.httpPort)], home);
    expect(code).toBe(1);
    expect(out.trim()).toBe(`❌  invalid configuration for HTTPPort. Port ${s.httpPort} is not available`);
  });

  it("prints the commands for a bare meshlet and exits 0; -v and --version name meshlet, the runtime and the Dapr API; help run shows run's flags", async () => {
    const home = tempHome();
    const bare = await cli([], home);
    expect(bare.code).toBe(0);
    expect(bare.out).toMatch(/usage: meshlet <command> \[flags\]/);
    for (const v of ["-v", "--version", "version"]) {
      const r = await cli([v], home);
      expect([r.code, r.out.trim()]).toEqual([0, expect.stringMatching(/^meshlet \d+\.\d+\.\d+ \(runtime: bun \d+\.\d+\.\d+; Dapr API v1\.0\)$/)]);
    }
    const help = await cli(["help", "run"], home);
    expect([help.code, help.out.split("\n")[0]]).toEqual([0, "meshlet run: start a sidecar, and your app after -- (its output prefixed == APP ==)"]);
    expect(help.out).toContain("--connect-timeout");
  });

  it("answers --help, -h and meshlet help <command> for every command and subcommand, exit 0", async () => {
    const home = tempHome();
    const all = (specs: readonly CommandSpec[]): CommandSpec[] => specs.flatMap((s) => [s, ...all(s.subcommands ?? [])]);
    for (const spec of all(Object.values(COMMAND_SPECS))) {
      const words = spec.name.split(" ");
      for (const args of [[...words, "--help"], [...words, "-h"], ["help", ...words]]) {
        const r = await cli(args, home);
        expect([r.code, r.out.split("\n")[0]], args.join(" ")).toEqual([0, `meshlet ${spec.name}: ${spec.summary}`]);
      }
    }
    // After the app's command, -h is the app's: run does not print its help for it.
    const app = await cli(["run", "-a", "helpless", "--", "node", "-e", "process.exit(3)", "-h"], home);
    expect(app.out).not.toContain("usage: meshlet run");
    // A missing or unknown subcommand is one line, or the command's help with exit 1.
    expect(await cli(["resiliency"], home)).toMatchObject({ code: 1, out: expect.stringMatching(/^meshlet resiliency: /) });
    expect(await cli(["resiliency", "frob"], home)).toMatchObject({ code: 1, out: '❌  unknown resiliency command "frob" (commands: explain, validate)\n' });
    expect(await cli(["certs", "frob"], home)).toMatchObject({ code: 1, out: '❌  unknown certs command "frob" (commands: init, show, export, import, renew-issuer)\n' });
    expect(await cli(["list", "extra"], home)).toMatchObject({ code: 1, out: '❌  unexpected argument "extra" (meshlet list --help shows the flags)\n' });
  });

  it("health exits 0 for a ready sidecar, 1 with the reason otherwise", async () => {
    const home = tempHome();
    const closed = await freePort();
    const s = await startSidecar({ appId: "probed", home, args: ["-p", String(closed)], waitReady: false });
    expect(await cli(["health", "-H", String(s.httpPort)], home)).toEqual({ code: 1, out: `❌  http://127.0.0.1:${s.httpPort}/v1.0/healthz: 500: dapr is not ready: [app channel: app not reachable at 127.0.0.1:${closed}]\n` });
    expect((await cli(["health", "-H", String(s.httpPort), "--outbound"], home)).code).toBe(0);
    expect(await cli(["health", "-H", String(closed)], home)).toEqual({ code: 1, out: `❌  http://127.0.0.1:${closed}/v1.0/healthz: no answer (connection refused: is a sidecar listening there?)\n` });
    expect((await cli(["health"], home, { DAPR_HTTP_PORT: String(s.httpPort) })).code).toBe(1);
  });

  it("says one clear line for bad flags and values", async () => {
    const home = tempHome();
    const cases: Array<[string[], RegExp]> = [
      [["run", "--app-idd", "x"], /Unknown option '--app-idd'/],
      [["run"], /--app-id \(-a\) is required/],
      [["run", "-a", "x", "--max-body-size", "lots"], /--max-body-size: invalid size "lots"/],
      [["run", "-a", "x", "-p", "0"], /--app-port: "0" is not a valid port/],
      [["run", "-a", "x", "--log-level", "loud"], /--log-level: "loud" is not one of/],
      [["run", "-a", "x", "--app-timeout", "5 sec"], /--app-timeout: "5 sec" is not a duration/],
      [["frobnicate"], /unknown command "frobnicate"/],
      [["stop", "-a", "nobody"], /failed to stop app id nobody: couldn't find app id nobody/],
      [["invoke", "-a", "nobody", "-m", "x"], /error invoking app nobody: app ID nobody not found/],
      [["run", "-a", "x", "--connect-timeout", "soon"], /--connect-timeout: "soon" is not a duration/],
      [["run", "-a", "x", "--app-health-threshold", "0"], /--app-health-threshold: a whole number from 1, not "0"/],
      [["run", "-a", "x", "--app-health-probe-interval", "often"], /--app-health-probe-interval: "often" is not a number of seconds/],
      [["run", "-a", "x", "--app-health-check-path", "healthz"], /--app-health-check-path: a path starting with \//],
    ];
    for (const [args, re] of cases) {
      const { code, out } = await cli(args, home);
      expect(code, args.join(" ")).toBe(1);
      expect(out.trim().split("\n")).toHaveLength(1);
      expect(out).toMatch(re);
    }
  });

  it("reports invalid YAML with file and line", async () => {
    const bad = tempFile("config.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  nameResolution: [oops\n");
    const { code, out } = await cli(["run", "-a", "x", "-c", bad], tempHome());
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: invalid YAML`));
    const unknown = tempFile("config.yaml", "kind: Configuration\nspec:\n  nameResolution:\n    component: carrier-pigeon\n");
    const r2 = await cli(["run", "-a", "x", "-c", unknown], tempHome());
    expect(r2.code).toBe(1);
    expect(r2.out).toContain('unknown name resolver "carrier-pigeon"');
  });
});

describe("meshlet doctor", () => {
  it("reports the local resolver, each running app-id and a diagnosis, without multicast", async () => {
    const home = tempHome();
    await startSidecar({ appId: "healthy", home, echo: true });
    const good = await cli(["doctor"], home);
    expect(good.out).toMatch(/^resolver: local, because no nameResolution in the configuration: single-host default \(no multicast, no server\)$/m);
    expect(good.out).toMatch(/healthy: resolved in [\d.]+ ms to 127\.0\.0\.1:\d+/);
    expect(good.out).not.toMatch(/^interfaces:|multicast sent/m);
    expect(good.out).toContain("diagnosis: all good");
    expect(good.code).toBe(0);
    const bad = await cli(["doctor", "-a", "missing"], home);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("diagnosis: missing does not resolve (app_id_not_found)");
  });
});

describe("meshlet list, invoke, stop", () => {
  it("lists, invokes and stops running apps", async () => {
    const home = tempHome();
    const s = await startSidecar({ appId: "listed", home, echo: true });
    const json = await cli(["list", "-o", "json"], home);
    const rows = JSON.parse(json.out) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ appId: "listed", httpPort: s.httpPort, appPort: s.appPort, daprdPid: s.pid, appPid: s.appPid() });
    expect(String(rows[0]!.command)).toContain("echo.mjs");
    const yaml = await cli(["list", "-o", "yaml"], home);
    expect(yaml.code).toBe(0);
    expect((await import("yaml")).parse(yaml.out)).toEqual(rows.map((r) => ({ ...r, age: expect.any(String) })));
    const table = await cli(["list"], home);
    expect(table.out).toMatch(/^APP ID\s+HTTP PORT/);
    expect(table.out).toMatch(new RegExp(`listed\\s+${s.httpPort}`));

    const inv = await cli(["invoke", "--app-id", "listed", "--method", "orders/1", "--data", '{"a":1}'], home);
    expect(inv.code).toBe(0);
    const echoed = JSON.parse(inv.out.split("\n")[0]!) as { method: string; url: string; body: string; headers: Record<string, string> };
    expect([echoed.method, echoed.url, echoed.body, echoed.headers["content-type"]]).toEqual(["POST", "/orders/1", '{"a":1}', "application/json"]);
    expect(inv.out).toContain("✅  App invoked successfully");
    const failing = await cli(["invoke", "-a", "listed", "-m", "status/500", "-v", "GET"], home);
    expect(failing.code).toBe(1);
    expect(failing.out).toContain("❌  error invoking app listed: 500");

    const stop = await cli(["stop", "--app-id", "listed"], home);
    expect(stop.code).toBe(0);
    expect(stop.out).toContain("✅  app stopped successfully: listed");
    await s.exited;
    await waitFor("list to be empty", async () => (await cli(["list"], home)).out.includes("No meshlet instances found."));
  });
});
