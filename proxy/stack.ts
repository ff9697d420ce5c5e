// The one place the layer order is written, with the reason for each position. Sidecar wiring
// builds Calls from these lists and `explain` will print them; nothing else composes layers.

import type { Call, Layer } from "./types.ts";
import type { Dialer } from "./dial.ts";
import type { Resolver } from "../resolvers/types.ts";
import { balance } from "./balance.ts";
import { headersTimeout } from "../resiliency/timeout.ts";
import { toApp, toPeer, type SelfIdentity } from "./forward.ts";
import type { Endpoint } from "./types.ts";

export interface StackDeps {
  readonly self: SelfIdentity;
  /** Dials the local app. */
  readonly dialer: Dialer;
  /** Dials peer sidecars (the internal transport: plain today, mTLS next). */
  readonly peerDialer: Dialer;
  readonly resolver: Resolver;
  /** Per-try wait for response headers, ms (0 = none). */
  readonly tryTimeoutMs: number;
  readonly maxBodySize: number;
  readonly app: Endpoint | null;
  readonly appApiToken?: string;
}

export interface StackStep {
  readonly name: string;
  readonly why: string;
  readonly layer: (d: StackDeps) => Layer;
}

/** Outbound to another app-id: outermost first. */
export const OUTBOUND: readonly StackStep[] = [
  {
    name: "balance",
    why: "resolve the app-id per attempt and pick an endpoint; a refused connection moves to another instance",
    layer: (d) => balance(d.resolver),
  },
  {
    name: "try-timeout",
    why: "innermost, so each endpoint tried gets its own wait for response headers; bodies stream untimed",
    layer: (d) => headersTimeout(d.tryTimeoutMs),
  },
];

/** Toward this sidecar's own app (self-invocation, and calls arriving from peers). */
export const TO_APP: readonly StackStep[] = [
  {
    name: "try-timeout",
    why: "bound the wait for the app's response headers; bodies stream untimed",
    layer: (d) => headersTimeout(d.tryTimeoutMs),
  },
];

export function compose(steps: readonly StackStep[], deps: StackDeps, terminal: Call): Call {
  let call = terminal;
  for (let i = steps.length - 1; i >= 0; i--) call = steps[i]!.layer(deps)(call);
  return call;
}

export function outboundCall(deps: StackDeps): Call {
  return compose(OUTBOUND, deps, toPeer(deps.peerDialer, deps.self, deps.maxBodySize));
}

export function appCall(deps: StackDeps): Call {
  return compose(TO_APP, deps, toApp(deps.dialer, deps.app, deps.maxBodySize, deps.appApiToken));
}
