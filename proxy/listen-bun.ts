// Bun adapter: Bun.serve for listeners and fetch for dialing. Bun-specific workarounds live here
// and are pinned by tests (see docs/decisions.md); the core never imports Bun.

import type { Listen, Runtime } from "./listen.ts";
import { PortInUseError } from "./listen.ts";
import { asSidecarError, errorResponse } from "./errors.ts";
import { fetchDialer } from "./dial-fetch.ts";
import { socketDialer } from "./dial-socket.ts";

export const listenBun: Listen = async ({ host, port, handler }) => {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: host,
      port,
      reusePort: false,
      development: false,
      // Bodies are limited per route by the sidecar (--max-body-size, with a Dapr-shaped 413).
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // Seconds without any byte either way before Bun drops a connection (max 255).
      idleTimeout: 255,
      // The peer address is not read: requestIP() costs ~3% CPU per request and no handler needs it.
      fetch(req) {
        return handler(req);
      },
      error(err) {
        return errorResponse(asSidecarError(err));
      },
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE" || /in use|EADDRINUSE/i.test(String((e as Error).message))) throw new PortInUseError(host, port);
    throw e;
  }
  return {
    host,
    port: server.port ?? port,
    async close(force) {
      await server.stop(force);
    },
  };
};

/** Requests leave on the event loop's own sockets; MESHLET_DIALER=fetch switches back to Bun's fetch. */
export const bunRuntime: Runtime = {
  name: "bun",
  listen: listenBun,
  dialer: process.env.MESHLET_DIALER === "fetch" ? fetchDialer : socketDialer,
};
