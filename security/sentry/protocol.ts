// The sentry's wire contract, shared by its server and its clients: one JSON POST over TLS that
// carries a CSR and a join token and returns the signed chain and the trust bundle.

export const SIGN_PATH = "/v1/sign";
export const DEFAULT_SENTRY_PORT = 50001;
/** The sentry's own SPIFFE app-id (Dapr's name), in the control plane's trust domain. */
export const SENTRY_APP_ID = "dapr-sentry";

export interface SignRequest {
  readonly csr: string;
  readonly token: string;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly appId: string;
  readonly ttlSeconds: number;
  readonly skewSeconds: number;
}

export interface SignResponse {
  /** Leaf first, then the issuer. */
  readonly chain: string;
  readonly trustBundle: string;
}

export interface SignRefusal {
  readonly error: string;
}
