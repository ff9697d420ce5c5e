// Reads Dapr resource YAML (multi-document files, a directory of them) into plain documents
// with their file and line, and turns parse errors into `file:line: message`. No schema here.

import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

export interface YamlDoc {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly data: Record<string, unknown>;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

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

/** Every `*.yaml|*.yml` directly in each path (no recursion, as Dapr); a file path reads that file. */
export function readResourcePaths(paths: readonly string[]): YamlDoc[] {
  const out: YamlDoc[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new ConfigError(`${p}: resources path does not exist`);
    }
    const files = st.isDirectory()
      ? fs
          .readdirSync(p)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => path.join(p, f))
      : [p];
    for (const f of files) out.push(...readYamlFile(f));
  }
  return out;
}
