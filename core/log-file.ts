// A sidecar's log kept on disk for `meshlet logs`: lines appended to $MESHLET_HOME/logs/<app-id>.log
// (0600, in a 0700 directory) through one buffered stream, rotated by size with a few old files kept.

import fs from "node:fs";
import path from "node:path";
import { ensurePrivateDir } from "./private-files.ts";

/** Rotate when the file passes this size; keep this many older files (<name>.1 newest). */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
export const LOG_KEEP = 3;

export function logsDir(home: string): string {
  return path.join(home, "logs");
}

export function logFile(home: string, appId: string): string {
  return path.join(logsDir(home), `${appId}.log`);
}

export interface LogFile {
  write(line: string): void;
  close(): void;
}

/**
 * Lines are gathered and written in one synchronous write per event-loop turn (a burst of lines
 * is one syscall; nothing is lost at exit), and the file is rotated between writes.
 */
export function openLogFile(file: string, maxBytes = LOG_MAX_BYTES, keep = LOG_KEEP): LogFile {
  ensurePrivateDir(path.dirname(file));
  let fd = fs.openSync(file, "a", 0o600);
  let size = fs.fstatSync(fd).size;
  let pending: string[] = [];
  let scheduled = false;
  const rotate = () => {
    fs.closeSync(fd);
    for (let i = keep - 1; i >= 1; i--) {
      if (fs.existsSync(`${file}.${i}`)) fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    }
    fs.renameSync(file, `${file}.1`);
    fd = fs.openSync(file, "a", 0o600);
    size = 0;
  };
  const flush = () => {
    scheduled = false;
    const lines = pending;
    pending = [];
    for (const line of lines) {
      const text = line + "\n";
      const bytes = Buffer.byteLength(text);
      if (size > 0 && size + bytes > maxBytes) rotate();
      try {
        fs.writeSync(fd, text);
        size += bytes;
      } catch {
        // A full disk must not take the sidecar down: the line still went to stderr.
      }
    }
  };
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close() {
      flush();
      fs.closeSync(fd);
    },
  };
}
