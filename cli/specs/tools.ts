// The definitions of meshlet's everyday commands (invoke, list, stop, logs, stat, doctor, bench):
// flags with their defaults and Dapr names, usage and examples, read by parsing and by --help.

import { HELP_FLAG, type CommandSpec } from "../command-spec.ts";

export const INVOKE_SPEC = {
  name: "invoke",
  summary: "call a method on a running app through its own sidecar, as dapr invoke does",
  usage: "invoke --app-id ID --method M [--verb V] [--data S | --data-file F]",
  flags: {
    "app-id": { type: "string", short: "a", arg: "ID", help: "the app to call (required; found in this host's run table)", dapr: "dapr invoke --app-id" },
    method: { type: "string", short: "m", arg: "PATH", help: "the method path (required)", dapr: "dapr invoke --method" },
    verb: { type: "string", short: "v", arg: "VERB", help: "HTTP verb", default: "POST", dapr: "dapr invoke --verb" },
    data: { type: "string", short: "d", arg: "TEXT", help: "the request body (JSON)", dapr: "dapr invoke --data" },
    "data-file": { type: "string", short: "f", arg: "FILE", help: "the request body from a file", dapr: "dapr invoke --data-file" },
    ...HELP_FLAG,
  },
  examples: ['meshlet invoke -a orders -m neworder -d \'{"orderId": 1}\'', "meshlet invoke -a orders -m order --verb GET"],
} as const satisfies CommandSpec;

export const LIST_SPEC = {
  name: "list",
  summary: "the sidecars running on this host, with dapr list's columns and keys, and their status",
  usage: "list [-o table|json|yaml]",
  flags: {
    output: { type: "string", short: "o", arg: "FORMAT", help: "table, json or yaml", default: "table", dapr: "dapr list --output" },
    ...HELP_FLAG,
  },
  examples: ["meshlet list", "meshlet list -o json"],
} as const satisfies CommandSpec;

export const STOP_SPEC = {
  name: "stop",
  summary: "stop running apps and their sidecars (SIGTERM, as dapr stop does)",
  usage: "stop --app-id ID... | stop ID...",
  args: "app-ids may also be given as words",
  flags: {
    "app-id": { type: "string", short: "a", multiple: true, arg: "ID", help: "the app to stop", dapr: "dapr stop --app-id" },
    ...HELP_FLAG,
  },
  examples: ["meshlet stop --app-id orders", "meshlet stop orders checkout"],
} as const satisfies CommandSpec;

export const LOGS_SPEC = {
  name: "logs",
  summary: "a sidecar's log, running or stopped, as dapr logs shows daprd's",
  usage: "logs --app-id ID [-f] [--tail N]",
  flags: {
    "app-id": { type: "string", short: "a", arg: "ID", help: "the sidecar whose log to show (required)", dapr: "dapr logs --app-id" },
    follow: { type: "boolean", short: "f", help: "keep printing new lines, across rotations (Ctrl-C to stop)" },
    tail: { type: "string", arg: "N", help: "only the last N lines", default: "all" },
    ...HELP_FLAG,
  },
  examples: ["meshlet logs -a orders --tail 50", "meshlet logs -a orders -f"],
} as const satisfies CommandSpec;

export const STAT_SPEC = {
  name: "stat",
  summary: "per app-id called from this host: requests/s, success rate, p50/p95/p99, top error reasons",
  usage: "stat [-a ID]... [--window DUR] [-o table|json] [-w]",
  flags: {
    "app-id": { type: "string", short: "a", multiple: true, arg: "ID", help: "only these targets" },
    window: { type: "string", arg: "DUR", help: "the period that just ended, up to 1m: each sidecar keeps its last minute (10s, 30s; a bare number is seconds)", default: "10s" },
    output: { type: "string", short: "o", arg: "FORMAT", help: "table or json", default: "table" },
    watch: { type: "boolean", short: "w", help: "show the last window again every 2 s" },
    ...HELP_FLAG,
  },
  examples: ["meshlet stat", "meshlet stat -a orders --window 1m -w"],
} as const satisfies CommandSpec;

export const DOCTOR_SPEC = {
  name: "doctor",
  summary: "check discovery (resolver choice, multicast, each app-id), readiness and mTLS, with fixes",
  usage: "doctor [-c config] [-a ID]... [--multicast]",
  flags: {
    config: { type: "string", short: "c", arg: "FILE", help: "the Configuration whose nameResolution to check", dapr: "dapr run --config" },
    "app-id": { type: "string", short: "a", multiple: true, arg: "ID", help: "also resolve these app-ids", default: "every running one" },
    multicast: { type: "boolean", help: "test multicast on each interface even when mDNS is not selected" },
    ...HELP_FLAG,
  },
  examples: ["meshlet doctor", "meshlet doctor -a orders --multicast"],
} as const satisfies CommandSpec;

export const BENCH_SPEC = {
  name: "bench",
  summary: "load-test an app-id's method through the local sidecar (autocannon underneath)",
  usage: "bench <app-id>/<method> [--rate N [--pace even|burst]] [--duration DUR] [flags]",
  args: "<app-id>/<method>: the call, as in /v1.0/invoke/<app-id>/method/<method>",
  flags: {
    rate: { type: "string", short: "r", arg: "N", help: "requests per second in total, as autocannon's --overallRate (without it: as fast as answers come)" },
    pace: { type: "string", arg: "MODE", help: "even (spread over the second) or burst (autocannon's -R)", default: "even" },
    duration: { type: "string", short: "d", arg: "DUR", help: "how long (10s, 1m30s; a bare number is seconds, as autocannon's)", default: "10s" },
    connections: { type: "string", short: "c", arg: "N", help: "concurrent connections", default: "10" },
    body: { type: "string", arg: "TEXT", help: "request body (the verb becomes POST)" },
    "body-file": { type: "string", arg: "FILE", help: "request body from a file" },
    verb: { type: "string", short: "v", arg: "VERB", help: "HTTP verb", default: "GET, or POST with a body" },
    output: { type: "string", short: "o", arg: "FORMAT", help: "text or json", default: "text" },
    "max-errors": { type: "string", arg: "N|P%", help: "failed requests tolerated before the exit code is 1 (a count, or a share: 0.5%)", default: "0" },
    "dapr-http-port": { type: "string", short: "H", arg: "PORT", help: "the sidecar to load", default: "--from's, DAPR_HTTP_PORT, or the first running one" },
    from: { type: "string", arg: "ID", help: "load through the sidecar of this running app-id" },
    ...HELP_FLAG,
  },
  examples: ["meshlet bench orders/neworder --rate 500 --duration 30s --body '{\"orderId\":1}'", "meshlet bench orders/health -c 50 -d 10 -o json"],
} as const satisfies CommandSpec;

export const HEALTH_SPEC = {
  name: "health",
  summary: "exit 0 when a sidecar's /v1.0/healthz answers 204 (container HEALTHCHECK, scripts), else 1 saying why",
  usage: "health [-H PORT] [--outbound] [--timeout DUR]",
  flags: {
    "dapr-http-port": { type: "string", short: "H", arg: "PORT", help: "the sidecar's HTTP port", default: "DAPR_HTTP_PORT, else 3500", dapr: "dapr run --dapr-http-port" },
    outbound: { type: "boolean", help: "ask /v1.0/healthz/outbound instead: components up, the app need not be" },
    timeout: { type: "string", arg: "DUR", help: "how long to wait for the answer (a bare number is seconds)", default: "2s" },
    ...HELP_FLAG,
  },
  examples: ["meshlet health -H 3500", "HEALTHCHECK CMD [\"/usr/local/bin/meshlet\", \"health\"]"],
} as const satisfies CommandSpec;
