// Reads Dapr resource YAML (multi-document files, a directory of them) into plain documents
// with their file and line, and turns parse errors into `file:line: message`. No schema here.

import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { ConfigError } from "./errors.ts";

export interface YamlDoc {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly data: Record<string, unknown>;
}

export { ConfigError };

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

export function readYamlFile(file: string): YamlDoc[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`);
  }
  const docs = YAML.parseAllDocuments(text, { prettyErrors: false });
  const out: YamlDoc[] = [];
  for (const doc of docs) {
    if (doc.errors.length) {
      const err = doc.errors[0]!;
      const line = err.linePos?.[0]?.line ?? lineOf(text, err.pos[0]);
      throw new ConfigError(`${file}:${line}: invalid YAML: ${err.message.split("\n")[0]}`);
    }
    const data = doc.toJS() as unknown;
    if (data === null || data === undefined) continue;
    const line = lineOf(text, (doc.contents?.range ?? doc.range)[0]);
    if (typeof data !== "object" || Array.isArray(data)) throw new ConfigError(`${file}:${line}: expected a mapping at the top level`);
    const kind = (data as { kind?: unknown }).kind;
    out.push({ file, line, kind: typeof kind === "string" ? kind : "", data: data as Record<string, unknown> });
  }
  return out;
}

/**
 * The YAML files a list of resources paths stands for: every `*.yaml|*.yml` directly in a
 * directory (no recursion, as Dapr), or the file itself. A missing path is a ConfigError.
 */
export function resourceFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new ConfigError(`${p}: resources path does not exist`);
    }
    if (!st.isDirectory()) out.push(p);
    else for (const f of fs.readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort()) out.push(path.join(p, f));
  }
  return out;
}

/** Every document of every resource file. */
export function readResourcePaths(paths: readonly string[]): YamlDoc[] {
  return resourceFiles(paths).flatMap((f) => readYamlFile(f));
}
