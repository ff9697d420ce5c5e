// What the mTLS transport needs of a workload identity: the certificate chain, key and trust
// bundle in force, and word when they change (renewal, a new bundle), so new handshakes use them.

export interface TlsMaterial {
  /** Leaf first, then intermediates (PEM). */
  readonly chainPem: string;
  /** The leaf's private key (PEM), held in memory only. */
  readonly keyPem: string;
  /** Trust anchors: every root a peer may chain to (PEM). */
  readonly trustPem: string;
  /** Grows by one with every change; pooled connections made under an older one are retired. */
  readonly generation: number;
}

export interface TlsCredentials {
  current(): TlsMaterial;
  /** Calls `fn` after every change; returns the unsubscribe. */
  onChange(fn: (m: TlsMaterial) => void): () => void;
}
