// Logs as a log pipeline reads them: --log-as-json gives one JSON object per line with Dapr's
// keys, and API logging (--enable-api-logging, or logging.apiLogging with obfuscateURLs and
// omitHealthChecks) gives one line per API call with its status, duration, reason and trace id.

import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { killAll, MESHLET, spawnProc, startSidecar, tempFile, tempHome, waitFor, expectOutput } from "../helpers.ts";

afterAll(killAll);

const jsonLines = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("logs", () => {
  it("--log-as-json --enable-api-logging: every line parses; each API call is one line with its trace id", async () => {
    const s = await startSidecar({ appId: "ledger", home: tempHome(), echo: true, args: ["--log-as-json", "--enable-api-logging"] });
    const r = await fetch(`${s.url}/v1.0/invoke/ledger/method/entries?x=1`);
    expect(r.status).toBe(200);
    const trace = r.headers.get("traceparent")!.slice(3, 35);
    const missing = await fetch(`${s.url}/v1.0/invoke/nobody/method/x`);
    expect(missing.status).toBe(500);
    const line = await waitFor("the API log line", async () => jsonLines(s.output()).find((o) => o.msg === "HTTP API Called" && o.trace_id === trace));
    expect(line).toMatchObject({ level: "info", type: "request", app_id: "ledger", scope: "meshlet", method: "GET", path: "/v1.0/invoke/ledger/method/entries?x=1", code: 200 });
    expect(typeof line.duration_ms).toBe("number");
    expect(typeof line.instance).toBe("string");
    const failed = await waitFor("the failed call's line", async () => jsonLines(s.output()).find((o) => o.msg === "HTTP API Called" && String(o.path).includes("/nobody/")));
    expect(failed).toMatchObject({ code: 500, reason: "app_id_not_found" });
    // The sidecar's own failure line carries the same trace id as the API line.
    const failure = jsonLines(s.output()).find((o) => o.msg === "invoke failed" && o.target === "nobody");
    expect(failure).toMatchObject({ reason: "app_id_not_found", trace_id: failed.trace_id });
    // Every line the sidecar wrote to its log is JSON (the CLI's own status lines go to stdout with an icon).
    const logLines = s.output().split("\n").filter((l) => l.startsWith("{") || l.startsWith("time="));
    expect(logLines.length).toBeGreaterThan(3);
    expect(logLines.every((l) => l.startsWith("{"))).toBe(true);
  });

  it("logging.apiLogging with obfuscateURLs and omitHealthChecks logs routes, not URLs, and no health checks", async () => {
    const cfg = tempFile("log.yaml", "kind: Configuration\nspec:\n  logging:\n    apiLogging:\n      enabled: true\n      obfuscateURLs: true\n      omitHealthChecks: true\n");
    const s = await startSidecar({ appId: "vault", home: tempHome(), echo: true, args: ["-c", cfg] });
    await fetch(`${s.url}/v1.0/invoke/vault/method/secret/42`);
    await fetch(`${s.url}/v1.0/healthz`);
    await fetch(`${s.url}/v1.0/metadata`);
    await waitFor("the metadata call's line", async () => s.output().includes("path={metadata}"));
    await expectOutput(s, "path=/v1.0/invoke/{id}/method/{method}");
    expect(s.output()).not.toContain("secret/42");
    expect(s.output()).not.toMatch(/HTTP API Called.*healthz/);
  });

  it("meshlet logs shows a sidecar's log, follows it, and still shows it after the sidecar stopped", async () => {
    const home = tempHome();
    const s = await startSidecar({ appId: "journal", home, echo: true, args: ["--enable-api-logging"] });
    const env = { ...process.env, MESHLET_HOME: home };
    const tail = execFileSync(MESHLET, ["logs", "-a", "journal", "--tail", "2"], { env, encoding: "utf8" });
    expect(tail.trim().split("\n")).toHaveLength(2);
    const follow = spawnProc(MESHLET, ["logs", "-a", "journal", "-f"], { MESHLET_HOME: home });
    await waitFor("logs -f to print the existing log", async () => follow.output().includes("sidecar ready"));
    await fetch(`${s.url}/v1.0/invoke/journal/method/followed-${process.pid}`);
    await waitFor("logs -f to print the new line", async () => follow.output().includes(`followed-${process.pid}`));
    process.kill(s.pid, "SIGTERM");
    await s.exited;
    const after = execFileSync(MESHLET, ["logs", "--app-id", "journal"], { env, encoding: "utf8" });
    expect(after).toContain(`followed-${process.pid}`);
    let err = "";
    try {
      execFileSync(MESHLET, ["logs", "-a", "nobody"], { env, encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toContain("no log for nobody");
    expect(err.trim().split("\n")).toHaveLength(1);
  });
});
