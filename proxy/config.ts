// The sidecar's resolved runtime settings: what `meshlet run` (or a test) hands to a Sidecar.
// Flag parsing and YAML loading happen before this; here every value is final and typed.

import type { AppHealthOptions } from "./app-health.ts";
import type { Endpoint } from "../core/call.ts";
import type { PolicySet } from "../resiliency/policy/types.ts";
import type { ComponentInfo, ComponentSpec } from "../config/configuration.ts";
import type { AccessControl } from "../security/acl/policy.ts";
import type { ApiLogging } from "./api.ts";
import type { MetricsSpec } from "../observability/http-metrics.ts";
import type { MemoryLimit } from "../config/memory-limit.ts";

export type { ComponentInfo, ComponentSpec };

export interface SidecarConfig {
  readonly appId: string;
  readonly namespace: string;
  /** Addresses the Dapr HTTP API listens on (default 127.0.0.1). */
  readonly listenAddresses: readonly string[];
  /** Dapr HTTP API port; 0 picks a free one. */
  readonly httpPort: number;
  /** Host and port of the sidecar-to-sidecar listener; port 0 = ephemeral. */
  readonly internalHost: string;
  readonly internalPort: number;
  /** The app, or null when the sidecar runs without one. */
  readonly app: Endpoint | null;
  /** --connect-timeout: longest wait for a new connection to a peer or the app (default 2 s). */
  readonly connectTimeoutMs?: number;
  /** --enable-app-health-check and --app-health-*; daprd's defaults (checks off) when absent. */
  readonly appHealth?: AppHealthOptions;
  readonly appProtocol: string;
  /** --max-body-size in bytes. */
  readonly maxBodySize: number;
  /** Largest request head on the sidecar's listeners (--read-buffer-size); larger gets 431. */
  readonly maxHeaderBytes?: number;
  /** Wait for response headers per try, ms; 0 disables. */
  readonly tryTimeoutMs: number;
  /** DAPR_API_TOKEN: required on API requests when set. */
  readonly apiToken?: string;
  /**
   * The secret sidecars of this host send each other while mTLS is off (transport/peer-secret.ts);
   * when set, the internal port refuses callers without it. Unset only in in-process tests.
   */
  readonly peerSecret?: string;
  /** APP_API_TOKEN: sent to the app when set. */
  readonly appApiToken?: string;
  readonly gracefulShutdownMs: number;
  readonly components: readonly ComponentSpec[];
  /** Resiliency policies in force at start (validated). */
  readonly policies: PolicySet;
  /** Paths watched for resiliency changes (hot reload); empty = no watching. */
  readonly resourcesPaths: readonly string[];
  /** Configuration `spec.accessControl` at start; null or absent: every caller allowed. */
  readonly accessControl?: AccessControl | null;
  /** The Configuration file (--config), watched for access-control changes; null: none. */
  readonly configFile?: string | null;
  /** API logging (--enable-api-logging or the Configuration's logging.apiLogging); null or absent: off. */
  readonly apiLogging?: ApiLogging | null;
  /** Port for Prometheus metrics (`/metrics`); null = not served. */
  readonly metricsPort: number | null;
  /** Dapr's metric families and their path rules (spec.metrics); null: not recorded (--enable-metrics=false); absent: Dapr's defaults. */
  readonly metrics?: MetricsSpec | null;
  /** --max-memory, or 90 % of the container's limit: calls are refused above it; null or absent: off. */
  readonly maxMemory?: MemoryLimit | null;
  readonly runtimeVersion: string;
  /** Extra facts published in the registry and `meshlet list`. */
  readonly registryInfo?: () => Record<string, string | number | null>;
}

export const MESHLET_VERSION = "0.1.0";
