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

/** The sidecar's /metrics text, or null when its metrics are off or it does not answer within 1 s. */
export async function metricsText(r: RunRecord): Promise<string | null> {
  if (r.metricsPort === null) return null;
  try {
    return await (await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`, { signal: AbortSignal.timeout(1_000) })).text();
  } catch {
    return null;
  }
}

/** Target app-id -> endpoints ejected now, as the meshlet_endpoints gauge in `text` says; null without metrics. */
export function ejectedEndpoints(text: string | null): Map<string, number> | null {
  if (text === null) return null;
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^meshlet_endpoints\{app_id="([^"]*)",state="ejected"\} (\S+)$/gm)) if (Number(m[2]) > 0) out.set(m[1]!, Number(m[2]));
  return out;
}
