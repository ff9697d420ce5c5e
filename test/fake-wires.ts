// Socket stand-ins for the HTTP/1.1 connection tests: they record what was written and what the
// connection asked of the socket (pause, FIN, reset), with nothing on the other end.

import type { ServerWire } from "../http1/server-contract.ts";
import type { Wire } from "../http1/h1-conn.ts";

/** A server connection's socket. */
export class FakeServerWire implements ServerWire {
  out: Buffer[] = [];
  paused = false;
  ended = false;
  terminated = false;
  write(data: Uint8Array): number {
    if (this.ended || this.terminated) return -1;
    this.out.push(Buffer.from(data));
    return data.byteLength;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
  }
  terminate(): void {
    this.terminated = true;
  }
  text(): string {
    return Buffer.concat(this.out).toString("latin1");
  }
}

/** A client connection's socket: accepts `budget` bytes per write when set. */
export class FakeClientWire implements Wire {
  written: Buffer[] = [];
  paused = false;
  terminated = false;
  ended = false;
  budget = Infinity;
  write(d: Uint8Array): number {
    if (this.terminated) return -1;
    const n = Math.min(d.byteLength, this.budget);
    this.written.push(Buffer.from(d.subarray(0, n)));
    return n;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  terminate(): void {
    this.terminated = true;
  }
  end(): void {
    this.ended = true;
  }
  text(): string {
    return Buffer.concat(this.written).toString("latin1");
  }
}
