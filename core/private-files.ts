// Files and directories private to the user running meshlet: directories 0700 (tightened when
// ours and wider), files 0600 written in one step. For state that other local users must not
// read or change: the registry, the run table, the peer secret.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import fsp from "node:fs/promises";

const myUid = typeof process.getuid === "function" ? process.getuid() : -1;

/** Creates `dir` (and its parents) private to this user; tightens it when it is ours and wider. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if ((st.mode & 0o077) !== 0 && (myUid < 0 || st.uid === myUid)) fs.chmodSync(dir, 0o700);
}

/** Writes `text` to `file` with `mode`, replacing it in one step: readers see the old file or the new, never a part. */
export function writeFileAtomic(file: string, text: string | Uint8Array, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}

/** Writes `text` to `file` readable by this user only, replacing it in one step. */
export function writePrivateFile(file: string, text: string): void {
  writeFileAtomic(file, text, 0o600);
}

export async function writePrivateFileAsync(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, text, { mode: 0o600 });
  await fsp.rename(tmp, file);
}

/**
 * The text of `file`, created with `make()` (mode 0600, its directory private) when it does not
 * exist yet. Processes starting at once agree: the text is written to a file of this process's
 * own and linked into place, which fails for all but the first, so nobody reads a half-written one.
 */
export function ensureSecretFile(file: string, make: () => string): string {
  if (!fs.existsSync(file)) {
    ensurePrivateDir(path.dirname(file));
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, make(), { mode: 0o600, flag: "wx" });
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  return fs.readFileSync(file, "utf8");
}
