// `meshlet run`: starts a sidecar in this process, then the app command with Dapr's env vars,
// passes the app's output through, and stops both together. Flags follow `dapr run`.

import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import type { Mtls } from "../security/setup.ts";
import { NO_TRACING, type Tracing } from "../observability/tracing.ts";
import { createLogger } from "../core/log.ts";
import { MESHLET_VERSION, type SidecarConfig } from "../proxy/config.ts";
import { PortInUseError } from "../runtime/listen.ts";
import { Sidecar } from "../proxy/sidecar.ts";
import { bunRuntime } from "../runtime/listen-bun.ts";
import { selectResolver } from "../resolvers/select.ts";
import { meshletHome } from "../resolvers/local.ts";
import { logFile, openLogFile } from "../core/log-file.ts";
import { drained, prefixLines } from "./app-output.ts";
import { writeRun } from "./run-table.ts";
import { fail, info, ok, UsageError } from "./ui.ts";
import { plan } from "./run-plan.ts";
import { ms } from "../resiliency/explain.ts";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "../runtime/dial.ts";
import { STREAM_IDLE_MS } from "../http1/server-contract.ts";

/** Where the app reaches the API: the first listen address, loopback for a wildcard. */
function apiHost(listen: readonly string[]): string {
  const a = listen[0] ?? "127.0.0.1";
  if (a === "0.0.0.0" || a === "::" || a === "") return "127.0.0.1";
  return a.includes(":") ? `[${a}]` : a;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

export async function runCommand(args: string[]): Promise<number> {
  const p = await plan(args);
  // Every log line also goes to $MESHLET_HOME/logs/<app-id>.log, for `meshlet logs`.
  const file = openLogFile(logFile(meshletHome(), p.cfg.appId));
  const write = (line: string) => {
    process.stderr.write(line + "\n");
    file.write(line);
  };
  const log = createLogger(p.level, { app_id: p.cfg.appId, scope: "meshlet", ...(p.json ? { instance: os.hostname(), ver: MESHLET_VERSION } : {}) }, write, p.json);
  const { resolver, why } = await selectResolver(p.nameResolution);
  // The workload identity comes first: without it the internal port cannot serve anyone.
  let mtls: Mtls | null = null;
  if (p.mtls.enabled) {
    const { startMtls } = await import("../security/setup.ts");
    try {
      mtls = await startMtls({
        id: { trustDomain: p.trustDomain, namespace: p.cfg.namespace, appId: p.cfg.appId },
        ttlMs: p.mtls.workloadCertTtlMs,
        skewMs: p.mtls.allowedClockSkewMs,
        sentryAddress: p.sentryAddress,
        controlPlaneTrustDomain: p.mtls.controlPlaneTrustDomain,
        certDir: p.certDir,
        home: meshletHome(),
        env: process.env,
        log,
      });
    } catch (e) {
      await resolver.close().catch(() => {});
      throw e;
    }
  }

  // Tracing loads the OpenTelemetry SDK only when an exporter is configured.
  let tracing: Tracing = NO_TRACING;
  let spansLost = 0;
  const t = p.tracing;
  if (t && (t.zipkinUrl || t.otel || t.stdout)) {
    const { startOtel } = await import("../observability/otel.ts");
    tracing = await startOtel(t, p.cfg.appId, log, (n) => (spansLost += n), () => bunRuntime.dialer({}));
  }

  // Dapr's default API port is 3500; a port the user left out that turns out to be taken (two
  // `meshlet run` starting together) is replaced by a free one instead of failing.
  let child: ChildProcess | null = null;
  let cfg: SidecarConfig = {
    ...p.cfg,
    httpPort: p.httpPort ?? 3500,
    registryInfo: () => ({ pid: process.pid, appPid: child?.pid ?? null, command: p.command.join(" ") }),
  };
  let sidecar: Sidecar;
  let ports: Awaited<ReturnType<Sidecar["start"]>>;
  for (;;) {
    sidecar = new Sidecar(cfg, bunRuntime, resolver, log, mtls?.transport, tracing);
    try {
      ports = await sidecar.start();
      break;
    } catch (e) {
      if (!(e instanceof PortInUseError)) throw e;
      if (p.httpPort === null && e.port === cfg.httpPort && cfg.httpPort !== 0) {
        cfg = { ...cfg, httpPort: 0 };
        continue;
      }
      if (p.metricsDefaulted && e.port === cfg.metricsPort && cfg.metricsPort !== 0) {
        cfg = { ...cfg, metricsPort: 0 };
        continue;
      }
      const which = e.port === cfg.httpPort ? "HTTPPort" : e.port === cfg.metricsPort ? "MetricsPort" : "InternalGRPCPort";
      throw new UsageError(`invalid configuration for ${which}. Port ${e.port} is not available`);
    }
  }
  // The port actually served (a taken 9090 is replaced by a free one); null with metrics off.
  const metricsPort = ports.metricsPort;
  mtls?.observe(sidecar.metrics);
  if (tracing.on) {
    const m = sidecar.metrics.spansLost;
    let counted = 0;
    setInterval(() => {
      m.inc(spansLost - counted);
      counted = spansLost;
    }, 5_000).unref();
  }
  if (mtls) {
    // Never present an expired certificate to peers: out of discovery until renewal works again.
    const s = sidecar;
    mtls.identity.onExpired = (why) => void s.suspend(why);
    mtls.identity.onRecovered = () => s.resume();
  }
  info(`Starting meshlet with id ${cfg.appId}. HTTP Port: ${ports.httpPort}. gRPC Port: ${p.grpcPort}`);
  log.info(`name resolution: ${resolver.name}: ${why}`);
  log.info("listening", {
    http: `${cfg.listenAddresses.join(",")}:${ports.httpPort}`,
    internal: `${cfg.internalHost}:${ports.internalPort}`,
    app: cfg.app?.key ?? "none",
    max_body_size: cfg.maxBodySize,
    max_memory: cfg.maxMemory ? `${cfg.maxMemory.bytes}${cfg.maxMemory.source === "cgroup" ? ` (90 % of the container's ${cfg.maxMemory.cgroupBytes})` : ""}` : "off",
    metrics: ports.metricsPort ? `${cfg.listenAddresses[0]}:${ports.metricsPort}/metrics` : "off",
    resiliency: cfg.policies.resources.join("; ") || "none",
    internal_transport: mtls ? `mtls as ${mtls.identity.spiffeId} (${mtls.identity.source})` : "plain (spec.mtls.enabled: false)",
    access_control: cfg.accessControl ? `${cfg.accessControl.policies.size} policies, default ${cfg.accessControl.defaultAction}` : "none",
    // The defaults in force, said once at start: Dapr's users find theirs by reading code.
    timeouts: `headers ${ms(cfg.tryTimeoutMs)} per try (--app-timeout), connect ${ms(cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)}, streams and tunnels idle ${ms(STREAM_IDLE_MS)}, shutdown grace ${ms(cfg.gracefulShutdownMs)}`,
  });

  let exitCode = 0;
  let stopping = false;
  let removeRun = () => {};
  const done = new Promise<void>((resolveDone) => {
    const shutdown = async (why: string, code: number, force = false) => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      if (why) info(why);
      if (child && child.exitCode === null && child.signalCode === null) {
        const c = child;
        killGroup(c, "SIGTERM");
        const killer = setTimeout(() => killGroup(c, "SIGKILL"), 5000);
        await new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));
        clearTimeout(killer);
        ok("Exited App successfully");
      }
      await sidecar.stop(force);
      mtls?.stop();
      ok("Exited meshlet successfully");
      file.close();
      removeRun();
      resolveDone();
    };
    process.on("SIGINT", () => void shutdown("terminated signal received: shutting down", 0));
    process.on("SIGTERM", () => void shutdown("terminated signal received: shutting down", 0));
    sidecar.onShutdownRequest = (force) => void shutdown("shutdown requested through the API", 0, force);

    if (p.command.length) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DAPR_HTTP_PORT: String(ports.httpPort),
        DAPR_GRPC_PORT: String(p.grpcPort),
        // The SDKs and Dapr's hello-kubernetes apps read the endpoints before the ports.
        DAPR_HTTP_ENDPOINT: `http://${apiHost(cfg.listenAddresses)}:${ports.httpPort}`,
        DAPR_GRPC_ENDPOINT: `http://${apiHost(cfg.listenAddresses)}:${p.grpcPort}`,
        APP_ID: cfg.appId,
        APP_CHANNEL_ADDRESS: cfg.app?.host ?? "127.0.0.1",
        APP_PROTOCOL: cfg.appProtocol,
      };
      if (cfg.app) env.APP_PORT = String(cfg.app.port);
      else delete env.APP_PORT;
      if (metricsPort !== null) env.DAPR_METRICS_PORT = String(metricsPort);
      else delete env.DAPR_METRICS_PORT;
      // bin/meshlet's runtime settings (JIT, allocator) are for the sidecar only (see there).
      for (const name of (env.MESHLET_SET_ENV ?? "").split(" ")) if (name) delete env[name];
      delete env.MESHLET_SET_ENV;
      const c = spawn(p.command[0]!, p.command.slice(1), { stdio: ["inherit", "pipe", "pipe"], env, detached: true });
      child = c;
      const output = [prefixLines(c.stdout!, process.stdout), prefixLines(c.stderr!, process.stderr)];
      c.once("error", (e) => {
        fail(`could not start the app command "${p.command[0]}": ${e.message}`);
        void shutdown("", 1);
      });
      c.once("exit", (code, signal) => {
        if (stopping) return;
        // The app's last lines first, then what meshlet says about its exit.
        void drained(output).then(() => {
          if (stopping) return;
          if (code) fail(`The App process exited with error code: ${code}`);
          else info(`The App process exited${signal ? ` on ${signal}` : ""}`);
          void shutdown("", code ?? (signal ? 1 : 0));
        });
      });
      sidecar.state.extended.set("appCommand", p.command.join(" "));
      if (c.pid) sidecar.state.extended.set("appPID", String(c.pid));
      ok("You're up and running! Both meshlet and your app logs will appear here.");
    } else {
      ok("You're up and running! meshlet logs will appear here.");
    }
    sidecar.state.extended.set("cliPID", String(process.pid));
    removeRun = writeRun({
      appId: cfg.appId,
      httpPort: ports.httpPort,
      grpcPort: p.grpcPort,
      appPort: cfg.app?.port ?? null,
      metricsPort,
      internalPort: ports.internalPort,
      command: p.command.join(" "),
      pid: process.pid,
      appPid: child?.pid ?? null,
      created: Date.now(),
      resourcesPaths: p.resourcesPaths,
      configFile: p.configFile,
      maxRequestBodySize: cfg.maxBodySize,
      mtls: mtls ? { id: mtls.identity.spiffeId, source: mtls.identity.source } : null,
    });
  });
  await done;
  return exitCode;
}
