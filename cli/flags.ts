// Dapr-compatible flag parsing for `meshlet run` and friends: the same long and short names as
// `dapr run`, validated strictly (an unknown flag or bad value is one clear UsageError).

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./ui.ts";
import { parseDuration } from "../config/units.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Splits `flags... [--] command...`: the command starts at `--` or the first non-flag word. */
export function splitCommand(args: readonly string[], options: Options): { flags: string[]; command: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type === "string") {
      takesValue.add(`--${name}`);
      if (o.short) takesValue.add(`-${o.short}`);
    }
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return { flags: args.slice(0, i), command: args.slice(i + 1) };
    if (!a.startsWith("-") || a === "-") return { flags: args.slice(0, i), command: args.slice(i) };
    if (!a.includes("=") && takesValue.has(a)) i++;
  }
  return { flags: [...args], command: [] };
}

export function parseFlags<O extends Options>(args: string[], options: O) {
  return parseFlagsAndArgs(args, options).values;
}

/**
 * Boolean flags in Go's spelling (`--enable-metrics=false`, as `dapr run` takes them): `=true`
 * becomes the bare flag, `=false` is taken out and reported apart. Other values are refused.
 * A negative number after a valued flag (`--metrics-port -1`, as Dapr's "-1: pick a port" flags
 * take it) is that flag's value, which parseArgs would otherwise call ambiguous.
 */
function goBooleans(args: readonly string[], options: Options): { args: string[]; off: string[] } {
  const out: string[] = [];
  const off: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const m = /^--([a-z][a-z0-9-]*)=(.*)$/s.exec(a);
    if (m && options[m[1]!]?.type === "boolean") {
      const v = m[2]!.toLowerCase();
      if (v === "true" || v === "1") out.push(`--${m[1]}`);
      else if (v === "false" || v === "0") off.push(m[1]!);
      else throw new UsageError(`--${m[1]}: "${m[2]}" is not true or false`);
      continue;
    }
    const valued = /^--([a-z][a-z0-9-]*)$/.exec(a)?.[1] ?? shortName(a, options);
    if (valued && options[valued]?.type === "string" && /^-\d+(\.\d+)?$/.test(args[i + 1] ?? "")) {
      out.push(`--${valued}=${args[++i]}`);
      continue;
    }
    out.push(a);
  }
  return { args: out, off };
}

function shortName(a: string, options: Options): string | undefined {
  if (!/^-[A-Za-z]$/.test(a)) return undefined;
  return Object.keys(options).find((k) => options[k]!.short === a[1]);
}

/** The flags and the other words (positionals); a bad flag is one UsageError line. */
export function parseFlagsAndArgs<O extends Options>(args: string[], options: O) {
  try {
    const g = goBooleans(args, options);
    const parsed = parseArgs({ args: g.args, options, strict: true, allowPositionals: true });
    for (const name of g.off) (parsed.values as Record<string, unknown>)[name] = false;
    return parsed;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // One line: Node's multi-line hints are joined, the positional-argument hint dropped.
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "").replace(/\s*\n\s*/g, " ");
    throw new UsageError(msg);
  }
}

/** A port flag: unset or -1 means "pick one"; otherwise 1..65535. */
export function portFlag(name: string, v: string | undefined): number | null {
  if (v === undefined || v === "-1") return null;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new UsageError(`--${name}: "${v}" is not a valid port (1-65535, or -1 for a free one)`);
  return Number(v);
}

/** A lifetime flag (`1y`, `90d`, `720h`) in ms; a bad value is a one-line UsageError. */
export async function lifetimeFlag(name: string, v: string): Promise<number> {
  const { parseLifetime } = await import("../config/units.ts");
  try {
    return parseLifetime(v);
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
}

/**
 * A duration flag in ms: Go's syntax (500ms, 5s, 1m30s), and a bare number is seconds, as
 * autocannon's and Dapr's second-valued flags read it. A bad value is one UsageError line.
 */
export function durationFlag(name: string, v: string): number {
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  let ms: number;
  try {
    ms = parseDuration(t);
  } catch {
    throw new UsageError(`--${name}: "${v}" is not a duration (examples: 500ms, 5s, 1m30s; a bare number is seconds)`);
  }
  if (ms < 0) throw new UsageError(`--${name}: "${v}" is negative`);
  return ms;
}
