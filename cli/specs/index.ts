// Every command's definition by name, for `meshlet --help`, `meshlet help <command>` and
// `<command> --help`: plain data, so printing help loads no command.

import type { CommandSpec } from "../command-spec.ts";
import { HELP_FLAG } from "../command-spec.ts";
import { INJECT_SPEC, INJECTOR_SPEC } from "./kube.ts";
import { RESILIENCY_SPEC } from "./resiliency.ts";
import { RUN_SPEC } from "./run.ts";
import { ACL_SPEC, CERTS_SPEC, SENTRY_SPEC } from "./security.ts";
import { BENCH_SPEC, DOCTOR_SPEC, HEALTH_SPEC, INVOKE_SPEC, LIST_SPEC, LOGS_SPEC, STAT_SPEC, STOP_SPEC } from "./tools.ts";

export const VERSION_SPEC = {
  name: "version",
  summary: "meshlet's version, its runtime and the Dapr API version it speaks (also -v, --version)",
  usage: "version",
  flags: { ...HELP_FLAG },
  examples: ["meshlet --version"],
} as const satisfies CommandSpec;

export const COMMAND_SPECS: Readonly<Record<string, CommandSpec>> = {
  run: RUN_SPEC,
  invoke: INVOKE_SPEC,
  list: LIST_SPEC,
  logs: LOGS_SPEC,
  stat: STAT_SPEC,
  stop: STOP_SPEC,
  resiliency: RESILIENCY_SPEC,
  bench: BENCH_SPEC,
  doctor: DOCTOR_SPEC,
  health: HEALTH_SPEC,
  certs: CERTS_SPEC,
  sentry: SENTRY_SPEC,
  acl: ACL_SPEC,
  inject: INJECT_SPEC,
  injector: INJECTOR_SPEC,
  version: VERSION_SPEC,
};

/** The most specific definition the words name (`sentry token create`), and the words after it. */
export function findSpec(cmd: string, rest: readonly string[]): { spec: CommandSpec; rest: string[] } | null {
  let spec = COMMAND_SPECS[cmd];
  if (!spec) return null;
  let words = [...rest];
  for (;;) {
    const sub: CommandSpec | undefined = spec.subcommands?.find((s) => {
      const tail = s.name.split(" ").slice(spec!.name.split(" ").length);
      return tail.every((w, i) => words[i] === w);
    });
    if (!sub) return { spec, rest: words };
    words = words.slice(sub.name.split(" ").length - spec.name.split(" ").length);
    spec = sub;
  }
}
