// What a running sidecar says about itself right now, for `list` and `doctor`: its readiness
// (healthz) and the endpoints it has ejected as outliers (its own metrics).

import type { RunRecord } from "./run-table.ts";

/** "ready", or why not (an unhealthy app, a failed registration), from the sidecar's healthz; "?" when it does not answer. */
export async function readiness(r: RunRecord): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${r.httpPort}/v1.0/healthz`, { signal: AbortSignal.timeout(1_000) });
    if (res.status === 204) return "ready";
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    return `not ready: ${(body.message ?? `status ${res.status}`).replace(/^dapr is not ready: \[(.*)\]$/, "$1")}`;
  } catch {
    return "?";
  }
}

/** Target app-id -> endpoints ejected now, as the sidecar's meshlet_endpoints gauge says; null when its metrics are off or unreachable. */
export async function ejectedEndpoints(r: RunRecord): Promise<Map<string, number> | null> {
  if (r.metricsPort === null) return null;
  try {
    const text = await (await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`, { signal: AbortSignal.timeout(1_000) })).text();
    const out = new Map<string, number>();
    for (const m of text.matchAll(/^meshlet_endpoints\{app_id="([^"]*)",state="ejected"\} (\S+)$/gm)) if (Number(m[2]) > 0) out.set(m[1]!, Number(m[2]));
    return out;
  } catch {
    return null;
  }
}
