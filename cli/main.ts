// meshlet's command-line entry: picks the subcommand and turns user mistakes into one clear
// line and a non-zero exit. Each subcommand lives in its own file.

import { ConfigError } from "../config/errors.ts";
import { CertError } from "../security/errors.ts";
import { ResiliencyError } from "../resiliency/policy/errors.ts";
import { RUN_USAGE } from "./usage.ts";
import { fail, UsageError } from "./ui.ts";
import { MESHLET_VERSION } from "../proxy/config.ts";

const USAGE = `meshlet ${MESHLET_VERSION}: a Dapr-compatible service-mesh sidecar

usage: meshlet <command> [flags]
  run       start a sidecar (and your app after --)
  invoke    call a method on a running app
  list      list running sidecars on this host
  logs      show a sidecar's log (-f to follow, --tail N), running or stopped
  stat      per app-id: requests/s, success rate, p50/p95/p99, top error reasons (-w to watch)
  stop      stop a running app and its sidecar
  resiliency explain|validate   show the effective policy for a call; check YAML files
  bench     load-test <app-id>/<method> through the local sidecar (autocannon)
  doctor    check discovery: resolver choice, multicast per interface, each app-id; mTLS identity
  certs     init|show|export|import|renew-issuer: the local CA and trust bundle
  sentry    run a CA service for several hosts; sentry token create: join tokens
  acl       explain --from APP --to APP --verb V --method M: what the access control decides
  version   print the version

${RUN_USAGE}`;

// Each command is loaded when used: a sidecar never loads what only `doctor` or `bench` need.
const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: async (args) => (await import("./run.ts")).runCommand(args),
  invoke: async (args) => (await import("./invoke.ts")).invokeCommand(args),
  list: async (args) => (await import("./list.ts")).listCommand(args),
  stop: async (args) => (await import("./stop.ts")).stopCommand(args),
  resiliency: async (args) => (await import("./resiliency.ts")).resiliencyCommand(args),
  bench: async (args) => (await import("./bench.ts")).benchCommand(args),
  doctor: async (args) => (await import("./doctor.ts")).doctorCommand(args),
  logs: async (args) => (await import("./logs.ts")).logsCommand(args),
  stat: async (args) => (await import("./stat.ts")).statCommand(args),
  certs: async (args) => (await import("./certs.ts")).certsCommand(args),
  sentry: async (args) => (await import("./sentry.ts")).sentryCommand(args),
  acl: async (args) => (await import("./acl.ts")).aclCommand(args),
  version: async () => {
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  },
};

/** meshlet's version, the runtime it runs on and the Dapr API version it speaks. */
function versionLine(): string {
  const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`;
  return `meshlet ${MESHLET_VERSION} (runtime: ${runtime}; Dapr API v1.0)`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === "--version" || cmd === "-v") return COMMANDS.version!([]);
  // `meshlet help run` is `meshlet run --help`; a bare `meshlet` prints the commands and succeeds.
  if (cmd === "help" && rest[0] === "run") {
    process.stdout.write(RUN_USAGE + "\n");
    return 0;
  }
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    fail(`unknown command "${cmd}" (commands: ${Object.keys(COMMANDS).join(", ")})`);
    return 1;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError || e instanceof CertError) {
      fail(e.message);
      return 1;
    }
    if (e instanceof ResiliencyError) {
      fail(`invalid resiliency configuration (${e.problems.length} problem${e.problems.length === 1 ? "" : "s"}):`);
      for (const p of e.problems) process.stderr.write(`   ${p}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
process.exit(process.exitCode);
