// One definition per command: its flags (type, short name, value name, default, the Dapr flag it
// mirrors, what it does), usage line and examples. Parsing and `--help` both read it, so the help
// cannot leave out a flag the command accepts.

import type { ParseArgsConfig } from "node:util";
import { parseFlagsAndArgs } from "./flags.ts";
import { UsageError } from "./ui.ts";

export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's name in help (`ID`, `DUR`); string flags only. */
  readonly arg?: string;
  readonly help: string;
  /** The default as help shows it; absent: none, or said in `help`. */
  readonly default?: string;
  /** The Dapr CLI or daprd flag it mirrors (`dapr run --app-id`), when it mirrors one. */
  readonly dapr?: string;
}

export type Flags = Readonly<Record<string, FlagSpec>>;

export interface CommandSpec<F extends Flags = Flags> {
  /** As typed: `run`, `resiliency explain`. */
  readonly name: string;
  readonly summary: string;
  /** The usage line after `meshlet `. */
  readonly usage: string;
  readonly flags: F;
  readonly examples: readonly string[];
  /** Words after the flags: what they are (`<app-id>/<method>`). */
  readonly args?: string;
  readonly subcommands?: readonly CommandSpec[];
}

/** Every command answers --help/-h. */
export const HELP_FLAG = { help: { type: "boolean", short: "h", help: "show this help" } } as const satisfies Flags;

type ParseOptions<F extends Flags> = { [K in keyof F]: { type: F[K]["type"]; short?: string; multiple: F[K]["multiple"] extends true ? true : false } };

/** The flags as node:util parseArgs takes them (only the fields it knows). */
export function parseOptions<F extends Flags>(flags: F): ParseOptions<F> {
  const out: Record<string, { type: "string" | "boolean"; short?: string; multiple: boolean }> = {};
  for (const [name, f] of Object.entries(flags)) out[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), multiple: f.multiple === true };
  return out as ParseOptions<F>;
}

/** Parses a command's flags and words strictly; a bad flag is one UsageError line. */
export function parseCommand<F extends Flags>(spec: CommandSpec<F>, args: string[]) {
  return parseFlagsAndArgs(args, parseOptions(spec.flags) as NonNullable<ParseArgsConfig["options"]> & ParseOptions<F>);
}

/** A command that takes no words: its flags, and an unexpected word is one UsageError line. */
export function parseFlagsOnly<F extends Flags>(spec: CommandSpec<F>, args: string[]) {
  const { values, positionals } = parseCommand(spec, args);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (meshlet ${spec.name} --help shows the flags)`);
  return values;
}

function flagLine(name: string, f: FlagSpec): [string, string] {
  const left = `${f.short ? `-${f.short}, ` : "    "}--${name}${f.type === "string" ? ` ${f.arg ?? "VALUE"}` : ""}`;
  const notes = [f.default !== undefined ? `default ${f.default}` : "", f.multiple ? "repeatable" : "", f.dapr ? `Dapr: ${f.dapr}` : ""].filter(Boolean);
  return [left, `${f.help}${notes.length ? `  [${notes.join("; ")}]` : ""}`];
}

/** The help of one command: summary, usage, every flag, subcommands, examples. */
export function helpText(spec: CommandSpec): string {
  const lines = [`meshlet ${spec.name}: ${spec.summary}`, "", `usage: meshlet ${spec.usage}`];
  if (spec.args) lines.push(`  ${spec.args}`);
  if (spec.subcommands?.length) {
    lines.push("", "commands:");
    const w = Math.max(...spec.subcommands.map((s) => s.name.length));
    for (const s of spec.subcommands) lines.push(`  ${s.name.padEnd(w)}  ${s.summary}`);
    lines.push("", `meshlet ${spec.name} <command> --help shows each command's flags`);
  }
  const flags = Object.entries(spec.flags);
  if (flags.length) {
    lines.push("", "flags:");
    const rows = flags.map(([n, f]) => flagLine(n, f));
    const w = Math.min(34, Math.max(...rows.map(([l]) => l.length)));
    for (const [l, r] of rows) lines.push(l.length > w ? `  ${l}\n  ${" ".repeat(w)}  ${r}` : `  ${l.padEnd(w)}  ${r}`);
  }
  if (spec.examples.length) lines.push("", "examples:", ...spec.examples.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}

/**
 * Whether `--help`/`-h` is among the flags: before `--`, not a string flag's value, and, for a
 * command that runs an app (`run`), before the app's first word.
 */
export function wantsHelp(args: readonly string[], flags: Flags, commandAfterWords = false): boolean {
  const takesValue = new Set<string>();
  for (const [name, f] of Object.entries(flags)) {
    if (f.type !== "string") continue;
    takesValue.add(`--${name}`);
    if (f.short) takesValue.add(`-${f.short}`);
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
    if (commandAfterWords && (!a.startsWith("-") || a === "-")) return false;
    if (!a.includes("=") && takesValue.has(a)) i++;
  }
  return false;
}
