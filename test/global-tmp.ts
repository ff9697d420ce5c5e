// One temporary directory per test run: os.tmpdir() of every test file, and of every sidecar, app
// and tool they start, lies inside it, and it is removed when the run ends. Before, each run left
// ~700 directories in /tmp (homes, certificates, keys, logs); a /tmp grown to 33,000 entries
// cost every Bun process started from a checkout under it ~7 MB to list it (docs/decisions.md).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-tests-"));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  };
}
