// `meshlet logs --app-id X [-f] [--tail N]`: a sidecar's log from $MESHLET_HOME/logs, running or
// stopped, as `dapr logs` shows daprd's; -f follows it across rotations.

import fs from "node:fs";
import { parseFlagsOnly } from "./command-spec.ts";
import { LOGS_SPEC } from "./specs/tools.ts";
import { UsageError } from "./ui.ts";
import { meshletHome } from "../resolvers/local.ts";
import { logFile } from "../core/log-file.ts";

export async function logsCommand(args: string[]): Promise<number> {
  const v = parseFlagsOnly(LOGS_SPEC, args);
  const appId = v["app-id"];
  if (!appId) throw new UsageError("--app-id (-a) is required");
  const tail = v.tail === undefined ? null : Number(v.tail);
  if (tail !== null && !(Number.isInteger(tail) && tail >= 0)) throw new UsageError(`--tail: "${v.tail}" is not a whole number`);
  const file = logFile(meshletHome(), appId);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`no log for ${appId} in ${file}: has a sidecar with this app-id run on this host (MESHLET_HOME)?`);
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const shown = tail === null ? lines : lines.slice(Math.max(0, lines.length - tail));
  if (shown.length) process.stdout.write(shown.join("\n") + "\n");
  if (!v.follow) return 0;
  // Follow by polling size and inode: a rotation (new inode) starts the new file from its beginning.
  let ino = fs.statSync(file).ino;
  let pos = Buffer.byteLength(text);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        return;
      }
      if (st.ino !== ino) {
        ino = st.ino;
        pos = 0;
      }
      if (st.size <= pos) return;
      const fd = fs.openSync(file, "r");
      const buf = Buffer.alloc(st.size - pos);
      fs.readSync(fd, buf, 0, buf.length, pos);
      fs.closeSync(fd);
      pos = st.size;
      process.stdout.write(buf);
    }, 200);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
