// SPIFFE identities as Dapr names workloads: spiffe://<trustDomain>/ns/<namespace>/<appId>. The one
// place they are written and read; a certificate's URI SAN is read with spiffeFromAltNames.

export interface SpiffeId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly appId: string;
}

/** Dapr's defaults: an app's trust domain is `public`, its namespace `default`. */
export const DEFAULT_TRUST_DOMAIN = "public";

const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const SEGMENT = /^[A-Za-z0-9._-]{1,255}$/;

export function validTrustDomain(td: string): boolean {
  return TRUST_DOMAIN.test(td);
}

export function formatSpiffe(id: SpiffeId): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/${id.appId}`;
}

/** The identity in `uri`, or null when it is not a workload id of Dapr's shape. */
export function parseSpiffe(uri: string): SpiffeId | null {
  if (!uri.startsWith("spiffe://")) return null;
  const parts = uri.slice(9).split("/");
  if (parts.length !== 4 || parts[1] !== "ns") return null;
  const [trustDomain, , namespace, appId] = parts as [string, string, string, string];
  if (!validTrustDomain(trustDomain) || !SEGMENT.test(namespace) || !SEGMENT.test(appId)) return null;
  return { trustDomain, namespace, appId };
}

/**
 * The single SPIFFE id in a certificate's subjectAltName as node:tls and Bun print it
 * ("URI:spiffe://..., DNS:..."); null when there is none or more than one (SPIFFE allows one).
 */
export function spiffeFromAltNames(altNames: string | undefined): SpiffeId | null {
  if (!altNames) return null;
  let found: SpiffeId | null = null;
  for (const part of altNames.split(", ")) {
    if (!part.startsWith("URI:spiffe://")) continue;
    if (found) return null;
    found = parseSpiffe(part.slice(4));
    if (!found) return null;
  }
  return found;
}
