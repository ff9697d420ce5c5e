// The definitions of `meshlet resiliency explain | validate`: flags, defaults and examples, read
// by parsing and by --help.

import { HELP_FLAG, type CommandSpec } from "../command-spec.ts";

export const RESILIENCY_EXPLAIN_SPEC = {
  name: "resiliency explain",
  summary: "the policy in force for one call (or a component's calls), step by step with where each value came from",
  usage: "resiliency explain (--app-id ID | --component NAME) [--resources-path DIR]... [flags]",
  flags: {
    "app-id": { type: "string", short: "a", arg: "ID", help: "the app-id being called" },
    component: { type: "string", arg: "NAME", help: "a component (state store) instead: its calls' policy" },
    method: { type: "string", short: "m", arg: "PATH", help: "the method called", default: "/" },
    verb: { type: "string", short: "v", arg: "VERB", help: "the HTTP verb", default: "GET" },
    "resources-path": { type: "string", multiple: true, arg: "DIR", help: "where the Resiliency (and Component) YAML is", dapr: "dapr run --resources-path" },
    "components-path": { type: "string", short: "d", multiple: true, arg: "DIR", help: "the old name of --resources-path", dapr: "dapr run --components-path" },
    "caller-app-id": { type: "string", arg: "ID", help: "the calling app (for Resiliency scopes)" },
    "app-timeout": { type: "string", arg: "DUR", help: "the caller's --app-timeout (a bare number is seconds)", default: "60s" },
    from: { type: "string", arg: "ID", help: "ask the running sidecar of this app-id instead of reading YAML" },
    ...HELP_FLAG,
  },
  examples: ["meshlet resiliency explain -a orders -v POST -m neworder --resources-path ./resources", "meshlet resiliency explain -a orders --from checkout", "meshlet resiliency explain --component statestore --resources-path ./resources"],
} as const satisfies CommandSpec;

export const RESILIENCY_VALIDATE_SPEC = {
  name: "resiliency validate",
  summary: "check Resiliency YAML offline; exits 1 with file:line for every problem",
  usage: "resiliency validate <file-or-dir>...",
  args: "<file-or-dir>: YAML files, or folders of them",
  flags: { ...HELP_FLAG },
  examples: ["meshlet resiliency validate ./resources"],
} as const satisfies CommandSpec;

export const RESILIENCY_SPEC = {
  name: "resiliency",
  summary: "Dapr Resiliency policies: explain what applies, validate files",
  usage: "resiliency <explain|validate> [flags]",
  flags: { ...HELP_FLAG },
  examples: RESILIENCY_EXPLAIN_SPEC.examples.slice(0, 1),
  subcommands: [RESILIENCY_EXPLAIN_SPEC, RESILIENCY_VALIDATE_SPEC],
} as const satisfies CommandSpec;
