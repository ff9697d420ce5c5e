// The table of running `meshlet run` processes on this host, one JSON file per process under
// $MESHLET_HOME/runs, for `list`, `stop` and `invoke`. Discovery does not read it (resolvers/ do).

import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { meshletHome, pidAlive } from "../resolvers/local.ts";
import { ensurePrivateDir, writePrivateFile } from "../core/private-files.ts";

export interface RunRecord {
  appId: string;
  httpPort: number;
  grpcPort: number;
  appPort: number | null;
  /** null: metrics off (--enable-metrics=false or spec.metrics.enabled: false). */
  metricsPort: number | null;
  internalPort: number;
  command: string;
  pid: number;
  appPid: number | null;
  created: number;
  resourcesPaths: string[];
  configFile: string | null;
  maxRequestBodySize: number;
  /** The internal port's mTLS identity and where it comes from; null: plain (mTLS off). Absent in records of older versions. */
  mtls?: { id: string; source: string } | null;
}

export const runsDir = () => path.join(meshletHome(), "runs");


/** Writes this process's record, private to this user (it holds the app's command line). */
export function writeRun(r: RunRecord): () => void {
  const dir = runsDir();
  ensurePrivateDir(dir);
  const file = path.join(dir, `${r.pid}.json`);
  writePrivateFile(file, JSON.stringify(r));
  return () => fs.rmSync(file, { force: true });
}

export async function readRuns(): Promise<RunRecord[]> {
  const dir = runsDir();
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const out: RunRecord[] = [];
  for (const n of names.filter((x) => x.endsWith(".json"))) {
    const file = path.join(dir, n);
    try {
      const r = JSON.parse(await fsp.readFile(file, "utf8")) as RunRecord;
      if (pidAlive(r.pid)) out.push(r);
      else await fsp.rm(file, { force: true });
    } catch {
      // being written or removed right now
    }
  }
  return out.sort((a, b) => a.created - b.created);
}
