// `meshlet stop --app-id X` (or positional ids): asks the `meshlet run` process of each app to
// shut down (SIGTERM), as `dapr stop` does, and waits briefly for it to go.

import { parseCommand } from "./command-spec.ts";
import { STOP_SPEC } from "./specs/tools.ts";
import { readRuns } from "./run-table.ts";
import { pidAlive } from "../resolvers/local.ts";
import { fail, ok, UsageError } from "./ui.ts";


export async function stopCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(STOP_SPEC, args);
  const ids = [...(values["app-id"] ?? []), ...positionals];
  if (ids.length === 0) throw new UsageError("--app-id (-a) is required");
  const runs = await readRuns();
  let code = 0;
  for (const id of ids) {
    const mine = runs.filter((r) => r.appId === id);
    if (mine.length === 0) {
      fail(`failed to stop app id ${id}: couldn't find app id ${id}`);
      code = 1;
      continue;
    }
    for (const r of mine) process.kill(r.pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (mine.some((r) => pidAlive(r.pid)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    if (mine.some((r) => pidAlive(r.pid))) {
      fail(`failed to stop app id ${id}: still running after 10s`);
      code = 1;
    } else ok(`app stopped successfully: ${id}`);
  }
  return code;
}
