// The seam for sidecar-to-sidecar security: how the internal listener is served and how peers
// are dialed. Today only plain HTTP/1.1 on loopback-or-cluster networks; the mTLS transport
// (workload certificates, SPIFFE identities, hot-swapped contexts) will implement this interface.

import type { Dialer, DialerOptions } from "../runtime/dial.ts";
import type { Listen, Runtime } from "../runtime/listen.ts";

export interface InternalTransport {
  readonly name: "plain" | "mtls";
  /** Serves the internal (sidecar-to-sidecar) port. */
  readonly listen: Listen;
  /** Dials peers' internal ports; one keep-alive pool per endpoint. */
  dialer(opts?: DialerOptions): Dialer;
}

/** Plain HTTP between sidecars: caller identity is informational until mTLS lands. */
export function plainTransport(rt: Runtime): InternalTransport {
  return { name: "plain", listen: rt.listen, dialer: (opts) => rt.dialer(opts) };
}
