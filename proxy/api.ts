// The sidecar's own endpoints on the Dapr HTTP API port: health, metadata, shutdown and explain,
// and what they need of the sidecar. Invocations pass these by (proxy/edge/api-steps.ts).

import type { Call } from "../core/call.ts";
import type { Tracing } from "../observability/tracing.ts";
import type { SidecarConfig } from "./config.ts";
import type { StateDeps } from "../state/api.ts";
import type { ComponentSet } from "../components/live.ts";
import type { Logger, throttledInfo } from "../core/log.ts";
import { parseAppId, type Route } from "./route.ts";
import { SidecarError } from "../core/errors.ts";
import { tooLarge } from "./body-limit.ts";
import { type Incoming, readBody } from "../core/incoming.ts";
import { textResponse } from "../core/wire-response.ts";
import type { HttpMetrics } from "../observability/http-metrics.ts";
import type { MemoryGuard } from "./memory-guard.ts";

/** All extended metadata values together (PUT /v1.0/metadata/<key>) stay within this many bytes. */
export const METADATA_TOTAL_CAP = 1024 * 1024;

export interface SidecarState {
  ready: boolean;
  outboundReady: boolean;
  shuttingDown: boolean;
  /** Why the sidecar is not ready although its app is (e.g. it could not register), or null. */
  notReady: string | null;
  readonly extended: Map<string, string>;
}

export interface ApiLogging {
  readonly obfuscateURLs: boolean;
  readonly omitHealthChecks: boolean;
}

export interface ApiDeps {
  readonly cfg: SidecarConfig;
  /** Spans and export (NO_TRACING when off). */
  readonly tracing: Tracing;
  /** API logging (--enable-api-logging, logging.apiLogging); null: off. */
  readonly apiLogging: ApiLogging | null;
  /** Dapr's metric families; null with --enable-metrics=false. */
  readonly metrics: HttpMetrics | null;
  readonly state: SidecarState;
  readonly log: Logger;
  /** Failure lines, at most one per reason and target per 10 s (throttledInfo). */
  readonly logFailure: ReturnType<typeof throttledInfo>;
  readonly hostname: string;
  /** This host's address for X-Forwarded-For (HOST_ADDRESS, else the first external IPv4). */
  readonly hostIp: string;
  /** The Call for a target, built once per target on first use. */
  target(appId: string, namespace: string): Call;
  /** Asked to stop (POST /v1.0/shutdown); `force` skips the graceful wait. */
  shutdown(force: boolean): void;
  /** The effective resiliency policy for a call, as text. */
  explain(appId: string, namespace: string, verb: string, method: string): string;
  /** The state stores (the state API's deps). */
  readonly stateApi: StateDeps;
  /** The components in force (secret stores, state stores, the metadata API's list); a reload swaps them. */
  readonly components: { readonly current: ComponentSet };
  /** --max-memory's guard; null when off. */
  readonly memory: MemoryGuard | null;
}

const NO_CONTENT = () => new Response(null, { status: 204 });
const json = (v: unknown) => textResponse(JSON.stringify(v), { status: 200, headers: { "content-type": "application/json" } });

function metadataBody(d: ApiDeps): unknown {
  const { cfg, state } = d;
  const extended: Record<string, string> = { daprRuntimeVersion: cfg.runtimeVersion };
  for (const [k, v] of state.extended) extended[k] = v;
  const body: Record<string, unknown> = {
    id: cfg.appId,
    runtimeVersion: cfg.runtimeVersion,
    enabledFeatures: [],
    components: d.components.current.listed,
    extended,
  };
  if (cfg.app) {
    body.appConnectionProperties = {
      port: cfg.app.port,
      protocol: cfg.appProtocol,
      channelAddress: cfg.app.host,
    };
  }
  return body;
}

/** Stores one extended metadata value within --max-body-size and the total cap. */
async function putMetadata(key: string, req: Incoming, d: ApiDeps): Promise<void> {
  const max = Math.min(d.cfg.maxBodySize, METADATA_TOTAL_CAP);
  const value = new TextDecoder().decode(await readBody(req, max, () => tooLarge(max)));
  let total = key.length + value.length;
  for (const [k, v] of d.state.extended) if (k !== key) total += k.length + v.length;
  if (total > METADATA_TOTAL_CAP) {
    throw new SidecarError("body_too_large", `extended metadata is limited to ${METADATA_TOTAL_CAP} bytes in total`);
  }
  d.state.extended.set(key, value);
}

/** Answers one of the sidecar's own endpoints (the api-endpoints step of the API listener). */
export async function apiEndpoint(r: Extract<Route, { kind: "api" }>, req: Incoming, d: ApiDeps): Promise<Response> {
  switch (r.name) {
    case "healthz": {
      const want = new URLSearchParams(r.query).get("appid");
      if (want !== null && want !== d.cfg.appId) throw new SidecarError("health_appid_mismatch", "dapr app-id does not match");
      if (!d.state.ready) {
        const why = d.state.notReady ?? `app channel: app not reachable at ${d.cfg.app?.key}`;
        throw new SidecarError("health_not_ready", `dapr is not ready: [${why}]`);
      }
      return NO_CONTENT();
    }
    case "healthz_outbound":
      if (!d.state.outboundReady) throw new SidecarError("health_not_ready", "dapr outbound is not ready");
      return NO_CONTENT();
    case "metadata":
      return json(metadataBody(d));
    case "metadata_put":
      await putMetadata(r.key!, req, d);
      return NO_CONTENT();
    case "shutdown":
      d.shutdown(req.headers.get("dapr-force-shutdown") === "true");
      return NO_CONTENT();
    case "explain": {
      const q = new URLSearchParams(r.query);
      const raw = q.get("appId") ?? q.get("appid");
      if (!raw) throw new SidecarError("malformed_request", "explain needs ?appId=<app-id>[&method=<path>][&verb=<VERB>]");
      const id = parseAppId(raw, d.cfg.namespace);
      if (id instanceof SidecarError) throw id;
      const text = d.explain(id.appId, id.namespace, (q.get("verb") ?? "GET").toUpperCase(), q.get("method") ?? "/");
      return textResponse(text, { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
  }
}
