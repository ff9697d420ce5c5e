// The seam between the sidecar and a runtime's HTTP server: a Listen function serves a
// Web-standard handler on one address. Runtime specifics stay in listen-bun.ts / listen-node.ts.

import type { Dialer } from "./dial.ts";

export type Handler = (req: Request) => Promise<Response> | Response;

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting; `force` also drops open connections. */
  close(force: boolean): Promise<void>;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly handler: Handler;
}

export type Listen = (o: ListenOptions) => Promise<Listener>;

/** A runtime adapter: how to serve and how to dial. */
export interface Runtime {
  readonly name: "bun" | "node";
  readonly listen: Listen;
  dialer(): Dialer;
}

export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is not available (already in use)`);
  }
}
