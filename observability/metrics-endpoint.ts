// The metrics port's answers: Prometheus text on /metrics, the same values as JSON on
// /metrics.json, and the calls of a recent window on /metrics/window?seconds=N (from the stat
// history, for `meshlet stat`).

import type { Registry } from "prom-client";
import type { Handler } from "../core/incoming.ts";
import { textResponse } from "../core/wire-response.ts";
import { splitUrl } from "../proxy/route.ts";
import { StatHistory, STAT_HISTORY_KEEP_MS } from "./stat-history.ts";
import { STAT_FAMILIES, windowToJSON, type Family } from "./stat.ts";

const JSON_TYPE = { "content-type": "application/json" };

/** The invocation families `meshlet stat` reads, as `registry` has them now (those it holds). */
export async function readStatFamilies(registry: Registry): Promise<Family[]> {
  const out: Family[] = [];
  for (const name of STAT_FAMILIES) {
    const m = registry.getSingleMetric(name);
    if (m) out.push((await m.get()) as unknown as Family);
  }
  return out;
}

/** The stat history over `registry`'s invocation families (started: a snapshot every 2 s). */
export function statHistory(registry: Registry, now: () => number = Date.now): StatHistory {
  const h = new StatHistory({ read: () => readStatFamilies(registry), now });
  h.start();
  return h;
}

export function metricsHandler(registry: Registry, history: StatHistory): Handler {
  return async (req) => {
    const { path, query } = splitUrl(req.target);
    if (path === "/metrics") return textResponse(await registry.metrics(), { headers: { "content-type": registry.contentType } });
    // The same values as JSON (labelled histograms included, no text parsing).
    if (path === "/metrics.json") return textResponse(JSON.stringify(await registry.getMetricsAsJSON()), { headers: JSON_TYPE });
    if (path === "/metrics/window") {
      const raw = new URLSearchParams(query).get("seconds");
      const seconds = Number(raw);
      if (raw === null || !Number.isFinite(seconds) || seconds < 1 || seconds > STAT_HISTORY_KEEP_MS / 1000) {
        return textResponse(`seconds: give a number of seconds from 1 to ${STAT_HISTORY_KEEP_MS / 1000}\n`, { status: 400 });
      }
      return textResponse(JSON.stringify(windowToJSON(await history.window(seconds))), { headers: JSON_TYPE });
    }
    return textResponse("not found\n", { status: 404 });
  };
}
