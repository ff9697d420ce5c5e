// Dapr's pod annotations (`dapr.io/*`) as meshlet's sidecar settings: each known one validated,
// with the problem named as `<where>: annotation dapr.io/x: ...`; unknown ones become warnings.
// No YAML here: inject.ts applies the settings to a pod template.

import { parseSize } from "../config/units.ts";

export const PREFIX = "dapr.io/";

export interface SidecarSettings {
  readonly appId: string;
  readonly appPort: number | null;
  readonly appProtocol: string;
  readonly config: string | null;
  readonly logLevel: string | null;
  readonly logAsJson: boolean;
  readonly apiLogging: boolean;
  readonly metrics: boolean;
  readonly metricsPort: number;
  readonly maxBodySize: string | null;
  readonly readBufferSize: string | null;
  readonly gracefulShutdownSeconds: string | null;
  readonly appHealthCheck: boolean;
  readonly appHealthPath: string | null;
  readonly appHealthInterval: string | null;
  readonly appHealthTimeout: string | null;
  readonly appHealthThreshold: string | null;
  readonly resources: { readonly requests: Record<string, string>; readonly limits: Record<string, string> };
  /** `dapr.io/env`: extra environment for the sidecar (`K=V,K2=V2`). */
  readonly env: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/** Annotations meshlet reads; the rest of dapr.io/ are named in a warning. */
const KNOWN = new Set([
  "enabled",
  "app-id",
  "app-port",
  "app-protocol",
  "config",
  "log-level",
  "log-as-json",
  "enable-api-logging",
  "enable-metrics",
  "metrics-port",
  "sidecar-cpu-request",
  "sidecar-cpu-limit",
  "sidecar-memory-request",
  "sidecar-memory-limit",
  "http-max-request-size",
  "max-body-size",
  "http-read-buffer-size",
  "read-buffer-size",
  "graceful-shutdown-seconds",
  "enable-app-health-check",
  "app-health-check-path",
  "app-health-probe-interval",
  "app-health-probe-timeout",
  "app-health-threshold",
  "env",
]);

const APP_ID = /^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?$/;
const BOOL = new Set(["true", "false"]);
const CPU = /^(\d+m|\d+(\.\d+)?)$/;
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;

export class AnnotationError extends Error {}

/** Whether the pod template asks for a sidecar (`dapr.io/enabled: "true"`). */
export function wantsSidecar(a: Readonly<Record<string, unknown>>): boolean {
  return String(a[`${PREFIX}enabled`] ?? "").toLowerCase() === "true";
}

/**
 * The sidecar settings of a pod template's annotations. `where` names the workload in errors
 * (`deploy.yaml:3: Deployment nodeapp`); `fallbackId` is the workload's name (Dapr's default
 * app-id); `warn` gets one line per unknown dapr.io/ annotation.
 */
export function readAnnotations(a: Readonly<Record<string, unknown>>, where: string, fallbackId: string, warn: (line: string) => void): SidecarSettings {
  const get = (k: string): string | null => {
    const v = a[PREFIX + k];
    return v === undefined || v === null ? null : String(v);
  };
  const fail = (k: string, msg: string): never => {
    throw new AnnotationError(`${where}: annotation ${PREFIX}${k}: ${msg}`);
  };
  const bool = (k: string, dflt: boolean): boolean => {
    const v = get(k);
    if (v === null) return dflt;
    if (!BOOL.has(v.toLowerCase())) fail(k, `"${v}" is not "true" or "false"`);
    return v.toLowerCase() === "true";
  };
  const port = (k: string): number | null => {
    const v = get(k);
    if (v === null) return null;
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) fail(k, `"${v}" is not a port (1-65535)`);
    return Number(v);
  };
  const size = (k: string): string | null => {
    const v = get(k);
    if (v === null) return null;
    try {
      parseSize(/^\d+$/.test(v) ? `${v}Mi` : v);
    } catch {
      fail(k, `"${v}" is not a size (4Mi, 512Ki; a bare number is MB, as Dapr's)`);
    }
    return /^\d+$/.test(v) ? `${v}Mi` : v;
  };
  const quantity = (k: string, re: RegExp, what: string): string | null => {
    const v = get(k);
    if (v === null) return null;
    if (!re.test(v)) fail(k, `"${v}" is not a ${what} quantity`);
    return v;
  };
  for (const key of Object.keys(a)) {
    if (key.startsWith(PREFIX) && !KNOWN.has(key.slice(PREFIX.length))) warn(`${where}: annotation ${key} is not used by meshlet; ignored`);
  }
  const appId = get("app-id") ?? fallbackId;
  if (!APP_ID.test(appId)) fail("app-id", `"${appId}" is not a valid app-id (letters, digits, - and _; no dots)`);
  const protocol = (get("app-protocol") ?? "http").toLowerCase();
  if (protocol !== "http") fail("app-protocol", `"${protocol}": meshlet calls apps over http only`);
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  const cpuReq = quantity("sidecar-cpu-request", CPU, "CPU");
  const cpuLim = quantity("sidecar-cpu-limit", CPU, "CPU");
  const memReq = quantity("sidecar-memory-request", MEMORY, "memory");
  const memLim = quantity("sidecar-memory-limit", MEMORY, "memory");
  if (cpuReq) requests.cpu = cpuReq;
  if (memReq) requests.memory = memReq;
  if (cpuLim) limits.cpu = cpuLim;
  if (memLim) limits.memory = memLim;
  const env: Array<{ name: string; value: string }> = [];
  for (const pair of (get("env") ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(pair.slice(0, eq))) fail("env", `"${pair}" is not NAME=value`);
    env.push({ name: pair.slice(0, eq), value: pair.slice(eq + 1) });
  }
  const level = get("log-level");
  if (level !== null && !["debug", "info", "warn", "error", "fatal"].includes(level)) fail("log-level", `"${level}" is not debug, info, warn, error or fatal`);
  const count = (k: string): string | null => {
    const v = get(k);
    if (v !== null && !/^\d+$/.test(v)) fail(k, `"${v}" is not a whole number`);
    return v;
  };
  return {
    appId,
    appPort: port("app-port"),
    appProtocol: protocol,
    config: get("config"),
    logLevel: level,
    logAsJson: bool("log-as-json", false),
    apiLogging: bool("enable-api-logging", false),
    metrics: bool("enable-metrics", true),
    metricsPort: port("metrics-port") ?? 9090,
    maxBodySize: size("max-body-size") ?? size("http-max-request-size"),
    readBufferSize: size("read-buffer-size") ?? size("http-read-buffer-size"),
    gracefulShutdownSeconds: count("graceful-shutdown-seconds"),
    appHealthCheck: bool("enable-app-health-check", false),
    appHealthPath: get("app-health-check-path"),
    appHealthInterval: count("app-health-probe-interval"),
    appHealthTimeout: count("app-health-probe-timeout"),
    appHealthThreshold: count("app-health-threshold"),
    resources: { requests, limits },
    env,
  };
}
