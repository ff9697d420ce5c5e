// The seam between the sidecar and a runtime's HTTP server: a Listen function serves a handler
// of Incoming requests on one address. Runtime specifics stay in listen-bun.ts / listen-node.ts.

import type { Dialer, DialerOptions } from "./dial.ts";
import type { Handler } from "../core/incoming.ts";

export type { Handler } from "../core/incoming.ts";

/** Default largest request head (request line and header fields): Dapr's 4 KiB is too small for real tokens. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting; `force` also drops open connections. */
  close(force: boolean): Promise<void>;
  /** WebSocket tunnels open on it now (listeners that can tunnel). */
  tunnels?(): number;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly handler: Handler;
  /** Largest request head accepted; larger ones get a Dapr-shaped 431. */
  readonly maxHeaderBytes: number;
}

export type Listen = (o: ListenOptions) => Promise<Listener>;

/** A runtime adapter: how to serve and how to dial. */
export interface Runtime {
  readonly name: "bun" | "node";
  readonly listen: Listen;
  dialer(opts?: DialerOptions): Dialer;
  /** A full, synchronous garbage collection, where the runtime offers one (Node only with --expose-gc). */
  collectGarbage?(): void;
}

export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is not available (already in use)`);
  }
}
