// Reads Dapr resource YAML (multi-document files, a directory of them) into plain documents
// with their file and line, and turns parse errors into `file:line: message`. No schema here.

import { fileStamp } from "../core/file-stamp.ts";
import fs from "node:fs";
import path from "node:path";
import YAML, { isMap, isScalar, LineCounter, type Document } from "yaml";
import { ConfigError } from "./errors.ts";

/**
 * Largest resource file read. Dapr resources are a few KiB; this bounds the time and memory a
 * mistaken or hostile file can cost (a 50 MB map once took a sidecar to 4.8 GB).
 */
export const MAX_RESOURCE_BYTES = 1024 * 1024;

/** The text of a resource file, refused with a clear error when it is over the size cap. */
export function readResourceText(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size > MAX_RESOURCE_BYTES) {
      throw new ConfigError(`${file}: ${size} bytes is over the ${MAX_RESOURCE_BYTES / 1024} KiB limit for a resource file`);
    }
    // Read at most one byte past the cap, whatever the file grew to since the stat.
    const buf = Buffer.allocUnsafe(MAX_RESOURCE_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.byteLength, 0);
    if (n > MAX_RESOURCE_BYTES) throw new ConfigError(`${file}: over the ${MAX_RESOURCE_BYTES / 1024} KiB limit for a resource file`);
    return buf.toString("utf8", 0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** A resource file's text, or why it could not be read (missing, over the cap). */
export type ResourceText = { readonly file: string; readonly text: string; readonly error?: undefined } | { readonly file: string; readonly error: string };

export function resourceText(file: string): ResourceText {
  try {
    return { file, text: readResourceText(file) };
  } catch (e) {
    return { file, error: (e as Error).message };
  }
}

/**
 * The first key that appears twice in one mapping anywhere in `doc`, with its position: found
 * in one pass with a Set per mapping (the yaml package's own `uniqueKeys` check is quadratic).
 */
export function duplicateKey(doc: Document.Parsed): { key: string; offset: number } | null {
  let found: { key: string; offset: number } | null = null;
  YAML.visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(k)) {
          found = { key: String(k), offset: (pair.key as { range?: [number] } | null)?.range?.[0] ?? 0 };
          return YAML.visit.BREAK;
        }
        seen.add(k);
      }
    },
  });
  return found;
}

export interface YamlDoc {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly data: Record<string, unknown>;
}

export { ConfigError };

export function readYamlFile(file: string): YamlDoc[] {
  return parseYamlText(readResourceText(file), file);
}

/** Every non-empty document of `text`, named `file` in errors (`file:line: message`). */
export function parseYamlText(text: string, file: string): YamlDoc[] {
  const lc = new LineCounter();
  const lineOf = (offset: number) => lc.linePos(offset).line;
  const docs = YAML.parseAllDocuments(text, { prettyErrors: false, lineCounter: lc, uniqueKeys: false });
  const out: YamlDoc[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length) {
      const err = doc.errors[0]!;
      const line = err.linePos?.[0]?.line ?? lineOf(err.pos[0]);
      throw new ConfigError(`${file}:${line}: invalid YAML: ${err.message.split("\n")[0]}`);
    }
    const dup = duplicateKey(doc);
    if (dup) throw new ConfigError(`${file}:${lineOf(dup.offset)}: invalid YAML: duplicate key "${dup.key}"`);
    const docLine = lineOf((doc.contents?.range ?? doc.range)[0]);
    let data: unknown;
    try {
      // Aliases are expanded here; the yaml package refuses excessive expansion (a YAML bomb).
      data = doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (e) {
      throw new ConfigError(`${file}:${docLine}: invalid YAML: ${(e as Error).message}`);
    }
    if (data === null || data === undefined) continue;
    const line = docLine;
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

/** Name, size, mtime and inode of every YAML file under the paths: a change without reading them. */
export function resourcesStamp(paths: readonly string[]): string {
  const parts: string[] = [];
  for (const p of paths) {
    try {
      const files = resourceFiles([p]);
      parts.push(files.join("|"), fileStamp(files));
    } catch {
      parts.push(`${p}:<unreadable>`);
    }
  }
  return parts.join("\u0000");
}
