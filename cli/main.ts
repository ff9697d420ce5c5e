// meshlet's command-line entry: picks the subcommand and turns user mistakes into one clear
// line and a non-zero exit. Each subcommand lives in its own file.

import { ConfigError } from "../config/errors.ts";
import { CertError } from "../security/errors.ts";
import { ResiliencyError } from "../resiliency/policy/errors.ts";
import { helpText, wantsHelp } from "./command-spec.ts";
import { COMMAND_SPECS, findSpec } from "./specs/index.ts";
import { fail, UsageError } from "./ui.ts";
import { MESHLET_VERSION } from "../proxy/config.ts";

/** The command list: each command's summary from its definition. */
function usage(): string {
  const w = Math.max(...Object.keys(COMMAND_SPECS).map((n) => n.length));
  const lines = Object.values(COMMAND_SPECS).map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`);
  return `meshlet ${MESHLET_VERSION}: a Dapr-compatible service-mesh sidecar

usage: meshlet <command> [flags]
${lines.join("\n")}

meshlet <command> --help (or meshlet help <command>) shows a command's flags and examples.
`;
}

/** `meshlet help [command [subcommand]]`, `<command> --help`: the definition's help. */
function printHelp(cmd: string, rest: readonly string[]): number {
  const found = findSpec(cmd, rest);
  if (!found) {
    fail(`unknown command "${cmd}" (commands: ${Object.keys(COMMAND_SPECS).join(", ")})`);
    return 1;
  }
  process.stdout.write(helpText(found.spec));
  return 0;
}

// Each command is loaded when used: a sidecar never loads what only `doctor` or `bench` need.
const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: async (args) => (await import("./run.ts")).runCommand(args),
  invoke: async (args) => (await import("./invoke.ts")).invokeCommand(args),
  list: async (args) => (await import("./list.ts")).listCommand(args),
  stop: async (args) => (await import("./stop.ts")).stopCommand(args),
  resiliency: async (args) => (await import("./resiliency.ts")).resiliencyCommand(args),
  bench: async (args) => (await import("./bench.ts")).benchCommand(args),
  doctor: async (args) => (await import("./doctor.ts")).doctorCommand(args),
  health: async (args) => (await import("./health.ts")).healthCommand(args),
  logs: async (args) => (await import("./logs.ts")).logsCommand(args),
  stat: async (args) => (await import("./stat.ts")).statCommand(args),
  certs: async (args) => (await import("./certs.ts")).certsCommand(args),
  sentry: async (args) => (await import("./sentry.ts")).sentryCommand(args),
  acl: async (args) => (await import("./acl.ts")).aclCommand(args),
  inject: async (args) => (await import("./inject.ts")).injectCommand(args),
  injector: async (args) => (await import("./injector.ts")).injectorCommand(args),
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
  // The single binary is its own certificate signer child (security/signer.ts); not a user command.
  if (cmd === "__signer") {
    await import("../security/signer-child.ts");
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  }
  if (cmd === "--version" || cmd === "-v") return COMMANDS.version!([]);
  // `meshlet help run` is `meshlet run --help`; a bare `meshlet` prints the commands and succeeds.
  if (cmd === "help" && rest[0]) return printHelp(rest[0], rest.slice(1));
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(usage());
    return 0;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    fail(`unknown command "${cmd}" (commands: ${Object.keys(COMMANDS).join(", ")})`);
    return 1;
  }
  const found = findSpec(cmd, rest);
  if (found && wantsHelp(found.rest, found.spec.flags, cmd === "run")) return printHelp(cmd, rest);
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
