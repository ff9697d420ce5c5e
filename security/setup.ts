// Turns a sidecar's settings into its mTLS: picks where its workload certificate comes from
// (sentry, watched files, Dapr's variables, or the local CA created on first use), starts the
// identity and builds the internal transport on it. The order of the sources is written here.

import type { Logger } from "../core/log.ts";
import { wallClock, type Clock } from "../core/clock.ts";
import type { Metrics } from "../core/metrics.ts";
import { throttledInfo } from "../core/log.ts";
import type { InternalTransport } from "../transport/transport.ts";
import { mtlsTransport } from "../transport/mtls.ts";
import { certsDir, ensureCa } from "./ca.ts";
import { type IdentitySource, WorkloadIdentity } from "./identity.ts";
import { certDirSource, daprEnvSource } from "./sources/files.ts";
import { localIssuerSource } from "./sources/local.ts";
import type { SpiffeId } from "./spiffe.ts";

export interface MtlsSettings {
  readonly id: SpiffeId;
  readonly ttlMs: number;
  readonly skewMs: number;
  /** --sentry-address or spec.mtls.sentryAddress. */
  readonly sentryAddress: string | null;
  /** The sentry's trust domain (spec.mtls.controlPlaneTrustDomain). */
  readonly controlPlaneTrustDomain: string;
  /** --cert-dir / MESHLET_CERT_DIR: certificates someone else writes (cert-manager, SPIRE). */
  readonly certDir: string | null;
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly clock?: Clock;
}

export interface Mtls {
  readonly identity: WorkloadIdentity;
  readonly transport: InternalTransport;
  /** Keeps the expiry gauges current and counts refused handshakes. */
  observe(metrics: Metrics): void;
  stop(): void;
}

/** The source, by precedence: sentry, certificate directory, Dapr's variables, local CA. */
export async function chooseSource(s: MtlsSettings): Promise<IdentitySource> {
  if (s.sentryAddress) {
    const { sentrySource } = await import("./sentry/client.ts");
    return sentrySource({ address: s.sentryAddress, env: s.env, home: s.home, controlPlaneTrustDomain: s.controlPlaneTrustDomain });
  }
  if (s.certDir) return certDirSource(s.certDir, s.env.DAPR_TRUST_ANCHORS || undefined);
  const fromEnv = daprEnvSource(s.env);
  if (fromEnv) return fromEnv;
  const dir = certsDir(s.home);
  await ensureCa(dir, s.id.trustDomain);
  return localIssuerSource(dir);
}

export async function startMtls(s: MtlsSettings): Promise<Mtls> {
  const source = await chooseSource(s);
  const clock = s.clock ?? wallClock;
  const identity = new WorkloadIdentity({ id: s.id, source, ttlMs: s.ttlMs, skewMs: s.skewMs, clock, log: s.log });
  await identity.start();
  const refusedLog = throttledInfo(s.log);
  let metrics: Metrics | null = null;
  const transport = mtlsTransport(
    identity,
    (address, why) => {
      metrics?.handshakesRefused.inc({ error: why });
      refusedLog(`tls:${why}`, "refused a TLS connection on the internal port", { peer: address, error: why });
    },
    (side) => metrics?.handshakes.inc({ side }),
  );
  let gauges: ReturnType<typeof setInterval> | null = null;
  return {
    identity,
    transport,
    observe(m) {
      metrics = m;
      identity.onRenewal = (ok) => m.certRenewals.inc({ result: ok ? "renewed" : "failed" });
      const update = () => {
        const st = identity.status();
        const now = clock.now();
        m.certExpiry.set({ cert: "workload" }, (st.notAfter - now) / 1000);
        m.certExpiry.set({ cert: "issuer" }, (st.issuerNotAfter - now) / 1000);
        m.certExpiry.set({ cert: "root" }, (st.rootsNotAfter - now) / 1000);
      };
      update();
      gauges = setInterval(update, 5_000);
      gauges.unref();
    },
    stop() {
      if (gauges) clearInterval(gauges);
      identity.stop();
    },
  };
}
