// The meshlet container and volumes for one pod, from its dapr.io/ settings: Dapr's ports and
// env, exec probes on `meshlet health` (the API stays on localhost), a locked-down security
// context, and the identity source (sentry token or certificate files) mounted read-only.

import type { SidecarSettings } from "./annotations.ts";

export const CONTAINER = "meshlet";
/** Every volume this module adds starts with this, so uninject finds them. */
export const VOLUME_PREFIX = "meshlet-";
export const HTTP_PORT = 3500;
export const GRPC_PORT = 50001;
export const INTERNAL_PORT = 50002;
export const HOME = "/var/lib/meshlet";
export const SECRETS_DIR = "/var/run/meshlet/secrets";

/** Where the sidecar's workload certificate comes from: one of them is required. */
export type Identity = { readonly sentryAddress: string; readonly tokenSecret: string } | { readonly certSecret: string };

export interface SidecarOptions {
  readonly image: string;
  readonly identity: Identity;
  /** Kubernetes Secrets the pod's components read through `secretKeyRef` (mounted read-only). */
  readonly secrets: readonly string[];
  /** Whether the namespace's resources ConfigMap (Components, Resiliency) is mounted. */
  readonly resources: boolean;
}

type Obj = Record<string, unknown>;

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const exec = (...args: string[]) => ({ exec: { command: ["/usr/local/bin/meshlet", ...args] } });
/** A Kubernetes volume name: lower case, digits and -, at most 63. */
const volumeName = (s: string) => `${VOLUME_PREFIX}${s}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63).replace(/-+$/, "");

/** `meshlet run`'s flags for these settings (in the container, so paths are the mounts'). */
export function sidecarArgs(s: SidecarSettings, o: SidecarOptions): string[] {
  const a = ["run", "--app-id", s.appId];
  if (s.appPort !== null) a.push("--app-port", String(s.appPort));
  a.push("--app-protocol", s.appProtocol, "--dapr-http-port", String(HTTP_PORT), "--dapr-grpc-port", String(GRPC_PORT), "--dapr-internal-grpc-port", String(INTERNAL_PORT));
  if (s.metrics) a.push("--metrics-port", String(s.metricsPort));
  else a.push("--enable-metrics=false");
  if (s.config) a.push("--config", "/etc/meshlet/config/config.yaml");
  if (o.resources) a.push("--resources-path", "/etc/meshlet/resources");
  if (s.logLevel) a.push("--log-level", s.logLevel);
  if (s.logAsJson) a.push("--log-as-json");
  if (s.apiLogging) a.push("--enable-api-logging");
  if (s.maxBodySize) a.push("--max-body-size", s.maxBodySize);
  if (s.readBufferSize) a.push("--read-buffer-size", s.readBufferSize);
  if (s.gracefulShutdownSeconds) a.push("--dapr-graceful-shutdown-seconds", s.gracefulShutdownSeconds);
  if (s.appHealthCheck) a.push("--enable-app-health-check");
  if (s.appHealthPath !== null) a.push("--app-health-check-path", s.appHealthPath);
  if (s.appHealthInterval) a.push("--app-health-probe-interval", s.appHealthInterval);
  if (s.appHealthTimeout) a.push("--app-health-probe-timeout", s.appHealthTimeout);
  if (s.appHealthThreshold) a.push("--app-health-threshold", s.appHealthThreshold);
  if ("sentryAddress" in o.identity) a.push("--sentry-address", o.identity.sentryAddress);
  else a.push("--cert-dir", "/var/run/meshlet/certs");
  return a;
}

/** The volumes the sidecar mounts, and where. */
export function sidecarVolumes(s: SidecarSettings, o: SidecarOptions): { volumes: Obj[]; mounts: Obj[] } {
  const volumes: Obj[] = [{ name: volumeName("home"), emptyDir: {} }];
  const mounts: Obj[] = [{ name: volumeName("home"), mountPath: HOME }];
  if (s.config) {
    volumes.push({ name: volumeName("config"), configMap: { name: configMapName(s.config) } });
    mounts.push({ name: volumeName("config"), mountPath: "/etc/meshlet/config", readOnly: true });
  }
  if (o.resources) {
    volumes.push({ name: volumeName("resources"), configMap: { name: RESOURCES_CONFIGMAP, optional: true } });
    mounts.push({ name: volumeName("resources"), mountPath: "/etc/meshlet/resources", readOnly: true });
  }
  if ("sentryAddress" in o.identity) {
    volumes.push({ name: volumeName("sentry-token"), secret: { secretName: o.identity.tokenSecret, defaultMode: 0o400 } });
    mounts.push({ name: volumeName("sentry-token"), mountPath: "/var/run/meshlet/sentry", readOnly: true });
  } else {
    volumes.push({ name: volumeName("certs"), secret: { secretName: o.identity.certSecret, defaultMode: 0o400 } });
    mounts.push({ name: volumeName("certs"), mountPath: "/var/run/meshlet/certs", readOnly: true });
  }
  for (const secret of o.secrets) {
    volumes.push({ name: volumeName(`secret-${secret}`), secret: { secretName: secret, defaultMode: 0o400 } });
    mounts.push({ name: volumeName(`secret-${secret}`), mountPath: `${SECRETS_DIR}/${secret}`, readOnly: true });
  }
  return { volumes, mounts };
}

export const RESOURCES_CONFIGMAP = "meshlet-resources";
export const configMapName = (configuration: string) => `meshlet-config-${configuration}`;

export function sidecarContainer(s: SidecarSettings, o: SidecarOptions, mounts: Obj[]): Obj {
  const env: Obj[] = [
    fieldEnv("NAMESPACE", "metadata.namespace"),
    fieldEnv("POD_NAME", "metadata.name"),
    fieldEnv("POD_IP", "status.podIP"),
    { name: "MESHLET_HOME", value: HOME },
    { name: "MESHLET_K8S_SECRETS_DIR", value: SECRETS_DIR },
    // The runtime settings bin/meshlet sets for the sources (docs/decisions.md).
    { name: "BUN_JSC_useFTLJIT", value: "0" },
    { name: "MIMALLOC_PURGE_DELAY", value: "1000" },
    { name: "MIMALLOC_PURGE_HOLES", value: "0" },
  ];
  if ("sentryAddress" in o.identity) env.push({ name: "DAPR_SENTRY_TOKEN_FILE", value: "/var/run/meshlet/sentry/token" });
  for (const e of s.env) env.push({ name: e.name, value: e.value });
  const ports: Obj[] = [
    { name: "dapr-http", containerPort: HTTP_PORT, protocol: "TCP" },
    { name: "dapr-grpc", containerPort: GRPC_PORT, protocol: "TCP" },
    { name: "dapr-internal", containerPort: INTERNAL_PORT, protocol: "TCP" },
  ];
  if (s.metrics) ports.push({ name: "dapr-metrics", containerPort: s.metricsPort, protocol: "TCP" });
  const resources: Obj = {};
  if (Object.keys(s.resources.requests).length) resources.requests = { ...s.resources.requests };
  if (Object.keys(s.resources.limits).length) resources.limits = { ...s.resources.limits };
  return {
    name: CONTAINER,
    image: o.image,
    imagePullPolicy: "IfNotPresent",
    args: sidecarArgs(s, o),
    env,
    ports,
    // Exec probes: the API answers on localhost only, never on the pod's address.
    readinessProbe: { ...exec("health"), initialDelaySeconds: 1, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
    livenessProbe: { ...exec("health", "--outbound"), initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
    ...(Object.keys(resources).length ? { resources } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: mounts,
  };
}

/** What the app containers are given, as Dapr's injector gives it. */
export const APP_ENV: ReadonlyArray<{ readonly name: string; readonly value: string }> = [
  { name: "DAPR_HTTP_PORT", value: String(HTTP_PORT) },
  { name: "DAPR_GRPC_PORT", value: String(GRPC_PORT) },
  { name: "DAPR_HTTP_ENDPOINT", value: `http://localhost:${HTTP_PORT}` },
  { name: "DAPR_GRPC_ENDPOINT", value: `http://localhost:${GRPC_PORT}` },
];
