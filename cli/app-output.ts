// The app's output under `meshlet run`, as `dapr run` shows it: each line of the app's stdout and
// stderr prefixed `== APP == ` on the same stream, partial lines held until their newline (or the
// end), so the app's lines and the sidecar's never interleave mid-line.

import type { Readable, Writable } from "node:stream";

export const APP_PREFIX = "== APP == ";

/** Copies `from` to `to` line by line with the prefix; resolves when `from` ends. */
export function prefixLines(from: Readable, to: Writable): Promise<void> {
  let pending = "";
  from.setEncoding("utf8");
  from.on("data", (chunk: string) => {
    const text = pending + chunk;
    const last = text.lastIndexOf("\n");
    if (last < 0) {
      pending = text;
      return;
    }
    pending = text.slice(last + 1);
    to.write(
      text
        .slice(0, last)
        .split("\n")
        .map((l) => APP_PREFIX + l)
        .join("\n") + "\n",
    );
  });
  return new Promise((resolve) => {
    const done = () => {
      if (pending) to.write(APP_PREFIX + pending + "\n");
      pending = "";
      resolve();
    };
    from.once("end", done);
    from.once("error", done);
  });
}

/** Waits for the app's streams to drain after it exited, but never longer than `ms` (a grandchild may hold them open). */
export function drained(streams: Promise<void>[], ms = 500): Promise<void> {
  return Promise.race([Promise.all(streams).then(() => {}), new Promise<void>((r) => setTimeout(r, ms).unref?.())]);
}
