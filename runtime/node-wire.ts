// A node:net / node:tls socket seen through the Wire interface the HTTP/1.1 connections drive
// (Bun's Socket semantics): write says how much was taken, 0 under backpressure until 'drain'.

import type net from "node:net";
import type { Wire } from "../http1/h1-conn.ts";
import type { ServerWire } from "../http1/server-contract.ts";

export function nodeWire(s: net.Socket, onDrain: () => void): Wire & ServerWire {
  let blocked = false;
  s.on("drain", () => {
    blocked = false;
    onDrain();
  });
  return {
    write(data) {
      if (s.destroyed || !s.writable) return -1;
      if (blocked) return 0;
      // Node queues what it cannot send now; further writes wait for 'drain', as Bun's would.
      if (!s.write(data)) blocked = true;
      return data.byteLength;
    },
    pause: () => void s.pause(),
    resume: () => void s.resume(),
    end: () => void s.end(),
    terminate: () => void s.destroy(),
  };
}
