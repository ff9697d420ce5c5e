// deploy/ checked without a service manager run or a Docker daemon: systemd verifies the unit and
// rates its sandboxing; the Dockerfile's non-root user, ports, health check and command use
// flags and commands meshlet has (parsed with its own definitions, so they cannot drift).

import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCommand } from "../../cli/command-spec.ts";
import { COMMAND_SPECS } from "../../cli/specs/index.ts";
import { parseYamlText } from "../../config/yaml.ts";
import { MESHLET, ROOT } from "../helpers.ts";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const UNIT = path.join(ROOT, "deploy", "systemd", "meshlet@.service");
const hasSystemd = (() => {
  try {
    execFileSync("systemd-analyze", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasSystemd)("deploy/systemd/meshlet@.service", () => {
  it("verifies cleanly and rates OK on systemd's exposure scale", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-unit-"));
    // The installed path, swapped for a meshlet that exists here.
    const unit = path.join(dir, "meshlet@.service");
    fs.writeFileSync(unit, fs.readFileSync(UNIT, "utf8").replace("/usr/local/bin/meshlet", MESHLET));
    // systemd reports unknown keys and bad values on stderr with exit 0: both must be empty.
    const verify = spawnSync("systemd-analyze", ["verify", "--man=no", `${dir}/meshlet@orders.service`], { encoding: "utf8", env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` } });
    expect([verify.status, verify.stdout.trim(), verify.stderr.trim()]).toEqual([0, "", ""]);
    const security = execFileSync("systemd-analyze", ["security", "--offline=yes", unit], { encoding: "utf8" });
    const level = Number(/Overall exposure level for .*: ([\d.]+)/.exec(security)?.[1]);
    expect(level).toBeLessThanOrEqual(2.5);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs meshlet run with flags meshlet has", () => {
    const exec = /^ExecStart=\/usr\/local\/bin\/meshlet (.*)$/m.exec(fs.readFileSync(UNIT, "utf8"))![1]!.replace("%i", "orders").replace("$MESHLET_ARGS", "").trim().split(/\s+/);
    expect(exec[0]).toBe("run");
    expect(() => parseCommand(COMMAND_SPECS.run!, exec.slice(1))).not.toThrow();
  });
});

describe("deploy/Dockerfile", () => {
  const text = fs.readFileSync(path.join(ROOT, "deploy", "Dockerfile"), "utf8");
  const json = (instr: string) => JSON.parse(new RegExp(`^${instr} (?:--\\S+ )*(?:CMD )?(\\[.*\\])$`, "m").exec(text)![1]!) as string[];

  it("builds the binary in one stage and packs it into a distroless non-root image", () => {
    expect(text).toMatch(/^FROM \S+ AS build$/m);
    expect(text).toMatch(/^RUN npm ci .*$/m);
    expect(text).toMatch(/^RUN npm run build/m);
    expect(text).toMatch(/^COPY --from=build \/src\/dist\/meshlet \/usr\/local\/bin\/meshlet$/m);
    expect(text).toMatch(/^USER nonroot:nonroot$/m);
    expect(text).toMatch(/^EXPOSE 3500 50002 9090$/m);
    expect(text).toMatch(/^VOLUME \["\/var\/lib\/meshlet"\]$/m);
    expect(text).toMatch(/MESHLET_HOME=\/var\/lib\/meshlet/);
  });

  it("checks health and starts the sidecar with commands and flags meshlet has, on the ports it exposes", () => {
    const health = json("HEALTHCHECK");
    expect(health.slice(0, 2)).toEqual(["/usr/local/bin/meshlet", "health"]);
    expect(() => parseCommand(COMMAND_SPECS.health!, health.slice(2))).not.toThrow();
    const cmd = json("CMD");
    expect(cmd[0]).toBe("run");
    const { values } = parseCommand(COMMAND_SPECS.run!, cmd.slice(1));
    expect([values["dapr-http-port"], values["dapr-internal-grpc-port"], values["metrics-port"]]).toEqual(["3500", "50002", "9090"]);
  });
});

describe("deploy/k8s (kustomize base for the sentry and the injector)", () => {
  const dir = path.join(ROOT, "deploy", "k8s");
  const docs = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .flatMap((f) => parseYamlText(fs.readFileSync(path.join(dir, f), "utf8"), f).map((d) => d.data));

  it("validates against Kubernetes' schemas (cert-manager's kinds are its CRDs: checked for their group only)", async () => {
    const { validateK8s } = await import("../k8s-schema.ts");
    let checked = 0;
    for (const d of docs) {
      if (String(d.apiVersion).startsWith("cert-manager.io/")) continue;
      await validateK8s(d);
      checked++;
    }
    expect(checked).toBe(8);
    const kustomization = parseYamlText(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8"), "kustomization.yaml")[0]!.data as { resources: string[] };
    for (const r of kustomization.resources) expect(fs.existsSync(path.join(dir, r)), r).toBe(true);
  });

  it("runs commands and flags meshlet has, and the webhook calls the injector where it listens", () => {
    const containers = docs.filter((d) => d.kind === "Deployment").flatMap((d) => ((d.spec as Obj).template.spec.containers as Obj[]));
    for (const c of containers) {
      const [cmd, ...rest] = c.args as string[];
      expect(() => parseCommand(COMMAND_SPECS[cmd!]!, rest), `${cmd} ${rest.join(" ")}`).not.toThrow();
    }
    const webhook = (docs.find((d) => d.kind === "MutatingWebhookConfiguration")!.webhooks as Obj[])[0]!;
    expect(webhook.admissionReviewVersions).toEqual(["v1"]);
    const svc = docs.find((d) => d.kind === "Service" && (d.metadata as Obj).name === webhook.clientConfig.service.name)!;
    expect((svc.spec as Obj).ports[0].port).toBe(webhook.clientConfig.service.port);
  });
});
