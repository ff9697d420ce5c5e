// The flags of `meshlet run`, with `dapr run`'s names and short letters: what run parses and
// what `meshlet run --help` prints.

import { HELP_FLAG, type CommandSpec } from "../command-spec.ts";

const same = (flag: string) => `dapr run --${flag}`;

export const RUN_FLAGS = {
  "app-id": { type: "string", short: "a", arg: "ID", help: "app-id of this app (required): letters, digits, - and _", dapr: same("app-id") },
  "app-port": { type: "string", short: "p", arg: "PORT", help: "port the app listens on (none: a sidecar without an app)", dapr: same("app-port") },
  "dapr-http-port": { type: "string", short: "H", arg: "PORT", help: "the Dapr HTTP API port apps call", default: "3500 when free, else a free port", dapr: same("dapr-http-port") },
  "dapr-grpc-port": { type: "string", short: "G", arg: "PORT", help: "reported to the app as DAPR_GRPC_PORT (the gRPC API is not served)", default: "a free port", dapr: same("dapr-grpc-port") },
  "dapr-internal-grpc-port": { type: "string", short: "I", arg: "PORT", help: "the sidecar-to-sidecar port", default: "a free port", dapr: same("dapr-internal-grpc-port") },
  "metrics-port": { type: "string", short: "M", arg: "PORT", help: "Prometheus /metrics (also DAPR_METRICS_PORT for the app)", default: "9090 when free, else a free port", dapr: same("metrics-port") },
  "enable-metrics": { type: "boolean", help: "record and serve metrics; --enable-metrics=false turns them off (also spec.metrics.enabled)", default: "true", dapr: same("enable-metrics") },
  "app-protocol": { type: "string", short: "P", arg: "PROTO", help: "how the app is called: http", default: "http", dapr: same("app-protocol") },
  "app-channel-address": { type: "string", arg: "HOST", help: "where the app listens", default: "127.0.0.1", dapr: same("app-channel-address") },
  config: { type: "string", short: "c", arg: "FILE", help: "a Dapr Configuration: nameResolution, mtls, accessControl (reloaded live), tracing, metrics, logging", dapr: same("config") },
  "resources-path": { type: "string", multiple: true, arg: "DIR", help: "Dapr resources: Components and Resiliency, reloaded live", dapr: same("resources-path") },
  "components-path": { type: "string", short: "d", multiple: true, arg: "DIR", help: "the old name of --resources-path", dapr: same("components-path") },
  "max-body-size": { type: "string", arg: "SIZE", help: "largest request body (4Mi, 512Ki, bytes)", default: "4Mi", dapr: same("max-body-size") },
  "max-memory": { type: "string", arg: "SIZE", help: "meshlet: refuse new calls (503 memory_pressure) while RSS is over SIZE (256Mi, 1Gi); 0 = off", default: "90% of the container's memory limit, else off" },
  "read-buffer-size": { type: "string", arg: "SIZE", help: "largest request head, 431 above it (a bare number is KiB, as Dapr's)", default: "16Ki", dapr: same("read-buffer-size") },
  "dapr-listen-addresses": { type: "string", arg: "ADDRS", help: "comma-separated addresses the API listens on", default: "127.0.0.1", dapr: "daprd --dapr-listen-addresses" },
  "app-timeout": { type: "string", arg: "DUR", help: "meshlet: longest wait for response headers per try (5s, 1m30s; 0 = none)", default: "60s" },
  "connect-timeout": { type: "string", arg: "DUR", help: "meshlet: longest wait for a new connection to a peer or the app", default: "2s" },
  "enable-app-health-check": { type: "boolean", help: "probe the app; an unhealthy app takes this instance out of discovery", dapr: same("enable-app-health-check") },
  "app-health-check-path": { type: "string", arg: "PATH", help: 'HTTP probe path ("" probes by TCP connect)', default: "/healthz", dapr: same("app-health-check-path") },
  "app-health-probe-interval": { type: "string", arg: "SECONDS", help: "seconds between probes", default: "5", dapr: same("app-health-probe-interval") },
  "app-health-probe-timeout": { type: "string", arg: "MS", help: "milliseconds a probe may take", default: "500", dapr: same("app-health-probe-timeout") },
  "app-health-threshold": { type: "string", arg: "N", help: "failed probes in a row that make the app unhealthy", default: "3", dapr: same("app-health-threshold") },
  "enable-mtls": { type: "boolean", help: "accepted: mTLS is on unless the Configuration sets spec.mtls.enabled: false", dapr: "daprd --enable-mtls" },
  "sentry-address": { type: "string", arg: "HOST:PORT", help: "get the workload certificate from `meshlet sentry` (token file: DAPR_SENTRY_TOKEN_FILE)", dapr: "daprd --sentry-address" },
  "cert-dir": { type: "string", arg: "DIR", help: "use certificates someone else writes and renews (cert-manager, SPIRE); watched", default: "$MESHLET_CERT_DIR" },
  "dapr-graceful-shutdown-seconds": { type: "string", arg: "SECONDS", help: "how long a stopping sidecar lets calls in flight finish", default: "5", dapr: same("dapr-graceful-shutdown-seconds") },
  "log-level": { type: "string", arg: "LEVEL", help: "debug, info, warn, error or fatal", default: "info", dapr: same("log-level") },
  "log-as-json": { type: "boolean", help: "one JSON object per log line (Dapr's keys: time, level, msg, scope, app_id, instance, type, ver)", dapr: "daprd --log-as-json" },
  "enable-api-logging": { type: "boolean", help: "one info line per API call (also the Configuration's logging.apiLogging)", dapr: same("enable-api-logging") },
  "app-max-concurrency": { type: "string", arg: "N", help: "accepted for compatibility; no effect yet (warns)", dapr: same("app-max-concurrency") },
  "placement-host-address": { type: "string", arg: "ADDR", help: "accepted for compatibility; actors are not implemented (warns)", dapr: same("placement-host-address") },
  "scheduler-host-address": { type: "string", arg: "ADDR", help: "accepted for compatibility; no effect (warns)", dapr: same("scheduler-host-address") },
  ...HELP_FLAG,
} as const;

export const RUN_SPEC: CommandSpec<typeof RUN_FLAGS> = {
  name: "run",
  summary: "start a sidecar, and your app after -- (its output prefixed == APP ==)",
  usage: "run --app-id ID [flags] [-- command args...]",
  args: "the app's command starts at -- or at the first word that is not a flag",
  flags: RUN_FLAGS,
  examples: [
    "meshlet run --app-id orders --app-port 3000 -- node app.js",
    "meshlet run -a checkout --resources-path ./resources -- python3 app.py",
    "meshlet run -a gateway                     # a sidecar alone: call others through it",
  ],
};
