// Configuration `spec.mtls` as meshlet reads it, with its defaults; kept apart from the YAML
// reader so a sidecar without a Configuration file never loads a YAML parser.

export interface MtlsSpec {
  /** meshlet's default is on (Dapr self-hosted: off); `spec.mtls.enabled: false` turns it off. */
  readonly enabled: boolean;
  readonly workloadCertTtlMs: number;
  readonly allowedClockSkewMs: number;
  readonly sentryAddress: string | null;
  readonly controlPlaneTrustDomain: string;
}

export const DEFAULT_MTLS: MtlsSpec = Object.freeze({
  enabled: true,
  workloadCertTtlMs: 24 * 3_600_000,
  allowedClockSkewMs: 15 * 60_000,
  sentryAddress: null,
  controlPlaneTrustDomain: "cluster.local",
});
