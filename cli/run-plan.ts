// `meshlet run`'s flags and Configuration turned into a plan: the sidecar's configuration, its
// ports and the app command, every value checked with a one-line error. Nothing starts here.

import { parseSize } from "../config/units.ts";
import os from "node:os";
import { cgroupMemoryLimit, memoryLimit, type MemoryLimit } from "../config/memory-limit.ts";
import type { MeshConfiguration, NameResolutionSpec } from "../config/configuration.ts";
import { DEFAULT_MTLS, type MtlsSpec } from "../config/mtls-spec.ts";
import type { AccessControl } from "../security/acl/policy.ts";
import type { TracingSpec } from "../config/tracing-spec.ts";
import { DEFAULT_METRICS } from "../observability/http-metrics.ts";
import { DEFAULT_TRUST_DOMAIN } from "../security/spiffe.ts";
import { EMPTY_POLICY_SET } from "../resiliency/policy/types.ts";
import { LEVELS, type Level } from "../core/log.ts";
import { MESHLET_VERSION, type SidecarConfig } from "../proxy/config.ts";
import { DEFAULT_MAX_HEADER_BYTES } from "../runtime/listen.ts";
import { endpoint } from "../core/call.ts";
import { meshletHome } from "../resolvers/local.ts";
import { loadPeerSecret, peerSecretFile } from "../transport/peer-secret.ts";
import { durationFlag, portFlag, splitCommand } from "./flags.ts";
import { parseCommand, parseOptions } from "./command-spec.ts";
import { RUN_SPEC } from "./specs/run.ts";
import { appHealthOptions } from "./app-health-flags.ts";
import { freePort } from "./ports.ts";
import { UsageError, warn } from "./ui.ts";

const APP_ID_RE = /^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/i;
const PROTOCOLS = ["http", "https", "grpc", "grpcs", "h2c"];
/** daprd's metrics port. */
const DAPR_METRICS_PORT = 9090;

const IGNORED = [
  "app-max-concurrency",
  "placement-host-address",
  "scheduler-host-address",
] as const;


export interface RunPlan {
  cfg: SidecarConfig;
  httpPort: number | null;
  grpcPort: number;
  metricsPort: number;
  /** The metrics port was picked here (not given): it may be replaced if taken meanwhile. */
  metricsDefaulted: boolean;
  command: string[];
  configFile: string | null;
  resourcesPaths: string[];
  level: Level;
  json: boolean;
  nameResolution: NameResolutionSpec | null;
  mtls: MtlsSpec;
  tracing: TracingSpec | null;
  trustDomain: string;
  sentryAddress: string | null;
  certDir: string | null;
}

export async function plan(args: string[]): Promise<RunPlan> {
  const { flags, command } = splitCommand(args, parseOptions(RUN_SPEC.flags));
  const { values: v } = parseCommand(RUN_SPEC, flags);
  const appId = v["app-id"];
  if (!appId) throw new UsageError("--app-id (-a) is required");
  if (!APP_ID_RE.test(appId)) throw new UsageError(`--app-id: "${appId}" is not a valid app-id (letters, digits, - and _; no dots)`);
  const level = (v["log-level"] ?? "info") as Level;
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level: "${level}" is not one of ${LEVELS.join(", ")}`);
  const protocol = (v["app-protocol"] ?? "http").toLowerCase();
  if (!PROTOCOLS.includes(protocol)) throw new UsageError(`--app-protocol: "${protocol}" is not one of ${PROTOCOLS.join(", ")}`);
  if (protocol !== "http") throw new UsageError(`--app-protocol ${protocol}: meshlet delivers to apps over plain HTTP/1.1 only for now`);
  const appPort = portFlag("app-port", v["app-port"]);
  const httpPort = portFlag("dapr-http-port", v["dapr-http-port"]);
  const internalPort = portFlag("dapr-internal-grpc-port", v["dapr-internal-grpc-port"]);
  let maxBodySize: number;
  try {
    maxBodySize = parseSize(v["max-body-size"] ?? "4Mi");
  } catch (e) {
    throw new UsageError(`--max-body-size: ${(e as Error).message}`);
  }
  const maxMemory = maxMemoryFlag(v["max-memory"]);
  let maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES;
  const rb = v["read-buffer-size"];
  if (rb !== undefined) {
    try {
      // Dapr's older form is a bare number of KiB ("4"); the newer a quantity ("4Ki").
      maxHeaderBytes = /^\d+$/.test(rb.trim()) ? Number(rb) * 1024 : parseSize(rb);
    } catch (e) {
      throw new UsageError(`--read-buffer-size: ${(e as Error).message}`);
    }
    if (maxHeaderBytes < 1024) throw new UsageError(`--read-buffer-size: ${rb} is below 1Ki; no real request head fits`);
  }
  const tryTimeoutMs = durationFlag("app-timeout", v["app-timeout"] ?? "60s");
  const connectTimeoutMs = durationFlag("connect-timeout", v["connect-timeout"] ?? "2s");
  if (!(connectTimeoutMs > 0)) throw new UsageError(`--connect-timeout: must be above zero, not "${v["connect-timeout"]}"`);
  const grace = Number(v["dapr-graceful-shutdown-seconds"] ?? "5");
  if (!(grace >= 0)) throw new UsageError(`--dapr-graceful-shutdown-seconds: "${v["dapr-graceful-shutdown-seconds"]}" is not a number`);
  const grpcPort = portFlag("dapr-grpc-port", v["dapr-grpc-port"]) ?? (await freePort());
  const metricsFlag = portFlag("metrics-port", v["metrics-port"]);
  // daprd's default port when it is free (the start retries on a free one if 9090 is taken).
  const metricsPort = metricsFlag ?? DAPR_METRICS_PORT;
  for (const f of IGNORED) if (v[f] !== undefined) warn(`--${f} is accepted for compatibility and has no effect in meshlet yet`);

  const configFile = v.config ?? null;
  // YAML, CEL and their parsers are loaded only when there is YAML to read.
  const conf: Pick<MeshConfiguration, "nameResolution" | "mtls" | "accessControl" | "trustDomain" | "tracing" | "apiLogging" | "metrics"> = configFile
    ? (await import("../config/configuration.ts")).loadConfiguration(configFile)
    : {
        nameResolution: null,
        mtls: DEFAULT_MTLS,
        accessControl: null as AccessControl | null,
        trustDomain: DEFAULT_TRUST_DOMAIN,
        tracing: null,
        apiLogging: { enabled: false, obfuscateURLs: false, omitHealthChecks: false },
        metrics: DEFAULT_METRICS,
      };
  const apiLogging = v["enable-api-logging"] || conf.apiLogging.enabled ? conf.apiLogging : null;
  // Both daprd's switches: the flag serves the port, the Configuration records the families.
  const metricsOn = v["enable-metrics"] !== false && conf.metrics.enabled;
  const sentryAddress = v["sentry-address"] ?? conf.mtls.sentryAddress;
  const certDir = v["cert-dir"] ?? (process.env.MESHLET_CERT_DIR || null);
  if (v["enable-mtls"] && !conf.mtls.enabled) throw new UsageError(`--enable-mtls: the Configuration ${configFile} sets spec.mtls.enabled: false`);
  const resourcesPaths = [...(v["resources-path"] ?? []), ...(v["components-path"] ?? [])];
  let components: SidecarConfig["components"] = [];
  let policies = EMPTY_POLICY_SET;
  if (resourcesPaths.length) {
    // One read of the files for both kinds, as every reload after it (resources/read.ts).
    const [{ readResources }, { ResiliencyError }, { ConfigError }] = await Promise.all([
      import("../resources/read.ts"),
      import("../resiliency/policy/errors.ts"),
      import("../config/errors.ts"),
    ]);
    const read = readResources({ paths: resourcesPaths, appId });
    if (!read.components.ok) throw new ConfigError(read.components.problem);
    if (!read.policies.ok) throw new ResiliencyError(read.policies.problems);
    components = read.components.specs;
    policies = read.policies.set;
  }
  const listen = (v["dapr-listen-addresses"] ?? "127.0.0.1").split(",").map((s) => s.trim()).filter(Boolean);
  const channel = v["app-channel-address"] ?? "127.0.0.1";
  const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
  const crossHost = ["mdns", "static", "kubernetes"].includes(conf.nameResolution?.component.toLowerCase() ?? "");

  // Without mTLS, sidecars of one host prove themselves to each other with the peer secret.
  let peerSecret: string | undefined;
  if (!conf.mtls.enabled) {
    try {
      peerSecret = loadPeerSecret(peerSecretFile(meshletHome()));
    } catch (e) {
      throw new UsageError(`peer secret: ${(e as Error).message}`);
    }
  }

  const cfg: SidecarConfig = {
    appId,
    namespace: process.env.NAMESPACE || "default",
    listenAddresses: listen,
    httpPort: httpPort ?? 0,
    // Peers on other hosts (cluster, LAN, edge) dial the host's address; on one host, loopback.
    internalHost: inCluster || crossHost ? "::" : "127.0.0.1",
    internalPort: internalPort ?? (inCluster ? 50002 : 0),
    app: appPort ? endpoint(channel, appPort) : null,
    appHealth: appHealthOptions(v),
    appProtocol: protocol,
    maxBodySize,
    maxHeaderBytes,
    maxMemory,
    tryTimeoutMs,
    connectTimeoutMs,
    apiToken: process.env.DAPR_API_TOKEN || undefined,
    peerSecret,
    appApiToken: process.env.APP_API_TOKEN || undefined,
    gracefulShutdownMs: grace * 1000,
    components,
    policies,
    resourcesPaths,
    accessControl: conf.accessControl,
    apiLogging,
    configFile,
    metricsPort: metricsOn ? metricsPort : null,
    metrics: metricsOn ? conf.metrics : null,
    runtimeVersion: `meshlet-${MESHLET_VERSION}`,
  };
  return {
    cfg,
    httpPort,
    grpcPort,
    metricsPort,
    metricsDefaulted: metricsFlag === null,
    command,
    configFile,
    resourcesPaths,
    level,
    json: Boolean(v["log-as-json"]),
    nameResolution: conf.nameResolution,
    mtls: conf.mtls,
    tracing: conf.tracing,
    trustDomain: conf.trustDomain,
    sentryAddress,
    certDir,
  };
}

/** --max-memory, else 90 % of the container's limit where one is set (a limit too small for that says so). */
function maxMemoryFlag(flag: string | undefined): MemoryLimit | null {
  const cgroup = flag === undefined ? cgroupMemoryLimit("/", os.totalmem()) : null;
  try {
    return memoryLimit(flag, cgroup, warn);
  } catch (e) {
    throw new UsageError(`--max-memory: ${(e as Error).message}`);
  }
}
