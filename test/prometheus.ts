// A real Prometheus server (Debian's `prometheus`) for tests: it scrapes the given metrics ports
// every second on loopback, keeps its data in a temp directory and answers PromQL over its HTTP API.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, spawnProc, waitFor, type Proc } from "./helpers.ts";

export function prometheusBinary(): string | null {
  try {
    execFileSync("prometheus", ["--version"], { stdio: "ignore" });
    return "prometheus";
  } catch {
    return null;
  }
}

export interface Prometheus {
  readonly proc: Proc;
  /** An instant PromQL query: each series' labels and value. */
  query(q: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
}

export async function startPrometheus(targets: Record<string, number>): Promise<Prometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-prom-"));
  const port = await freePort();
  const jobs = Object.entries(targets)
    .map(([job, p]) => `  - job_name: ${job}\n    scrape_interval: 1s\n    static_configs:\n      - targets: ["127.0.0.1:${p}"]\n`)
    .join("");
  fs.writeFileSync(path.join(dir, "prometheus.yml"), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs}`);
  const proc = spawnProc("prometheus", [
    `--config.file=${path.join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitFor("prometheus to be ready", async () => {
    if (proc.child.exitCode !== null) throw new Error(`prometheus exited:\n${proc.output()}`);
    return (await fetch(`${base}/-/ready`).catch(() => null))?.status === 200;
  }, 30_000);
  return {
    proc,
    async query(q) {
      const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== "success") throw new Error(`PromQL ${q}: ${body.error}`);
      return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    },
  };
}
