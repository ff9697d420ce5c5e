// The two ways to ask the local app whether it can take calls: a TCP connect, or an HTTP GET on
// its health path (2xx is healthy, as daprd; APP_API_TOKEN is sent as on every call to the app).

import type { Probe } from "./app-health.ts";
import { tcpConnect } from "../core/tcp-connect.ts";

/** Connects and hangs up: null when the app accepted, else why not. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Probe {
  return () => tcpConnect(host, port, timeoutMs);
}

/** GET `path` on the app: null on 2xx, else the status or the failure. */
export function httpProbe(host: string, port: number, path: string, timeoutMs: number, appApiToken?: string): Probe {
  return async () => {
    // Loaded on the first probe, not at start: node:http is ~2 MB of a sidecar's RSS, and app
    // health checks are off by default.
    const http = await import("node:http");
    return new Promise((resolve) => {
      let settled = false;
      const done = (verdict: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(verdict);
      };
      const req = http.get({ host, port, path, agent: false, headers: appApiToken ? { "dapr-api-token": appApiToken } : {} }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        done(status >= 200 && status < 300 ? null : `${path} answered ${status}`);
      });
      const timer = setTimeout(() => done(`${path} did not answer in ${timeoutMs} ms`), timeoutMs);
      req.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    });
  };
}
