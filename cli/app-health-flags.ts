// daprd's app health flags as meshlet's AppHealthOptions: --enable-app-health-check,
// --app-health-check-path, --app-health-probe-interval (seconds), --app-health-probe-timeout
// (milliseconds) and --app-health-threshold, each checked with a one-line error.

import { APP_HEALTH_DEFAULTS, type AppHealthOptions } from "../proxy/app-health.ts";
import { parseDuration } from "../config/units.ts";
import { UsageError } from "./ui.ts";

export interface AppHealthFlags {
  "enable-app-health-check"?: boolean;
  "app-health-check-path"?: string;
  "app-health-probe-interval"?: string;
  "app-health-probe-timeout"?: string;
  "app-health-threshold"?: string;
}

/** A bare number in daprd's unit (`unitMs` per unit), or a duration such as 1500ms or 2s. */
function duration(flag: string, value: string | undefined, unitMs: number, fallback: number): number {
  if (value === undefined) return fallback;
  const v = value.trim();
  let ms: number;
  try {
    ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * unitMs : parseDuration(v);
  } catch {
    throw new UsageError(`--${flag}: "${value}" is not a number of ${unitMs === 1000 ? "seconds" : "milliseconds"} or a duration such as 500ms`);
  }
  if (!(ms > 0)) throw new UsageError(`--${flag}: must be above zero, not "${value}"`);
  return ms;
}

export function appHealthOptions(v: AppHealthFlags): AppHealthOptions {
  const threshold = v["app-health-threshold"] === undefined ? APP_HEALTH_DEFAULTS.threshold : Number(v["app-health-threshold"]);
  if (!Number.isInteger(threshold) || threshold < 1) throw new UsageError(`--app-health-threshold: a whole number from 1, not "${v["app-health-threshold"]}"`);
  const path = v["app-health-check-path"] ?? APP_HEALTH_DEFAULTS.path;
  if (path !== null && path !== "" && !path.startsWith("/")) throw new UsageError(`--app-health-check-path: a path starting with /, not "${path}"`);
  return Object.freeze({
    enabled: v["enable-app-health-check"] === true,
    // An empty path asks for TCP connect probes.
    path: path || null,
    intervalMs: duration("app-health-probe-interval", v["app-health-probe-interval"], 1000, APP_HEALTH_DEFAULTS.intervalMs),
    timeoutMs: duration("app-health-probe-timeout", v["app-health-probe-timeout"], 1, APP_HEALTH_DEFAULTS.timeoutMs),
    threshold,
  });
}
