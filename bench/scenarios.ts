// The measured paths: direct, one sidecar, two sidecars, and the same chains through haproxy and
// an http-proxy forwarder when present. Each scenario starts its processes and names the pids
// whose CPU and memory are charged to it.

import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort, hasCommand, type Harness } from "./harness.ts";

export interface Path {
  readonly name: string;
  readonly url: string;
  /** Processes charged for CPU and memory (the proxies; the app for `direct`). */
  readonly pids: number[];
  readonly stop: () => Promise<void>;
  /** mTLS paths: handshakes completed so far by the calling side (connections it opened). */
  readonly handshakes?: () => Promise<number>;
}

const HAPROXY = (frontends: Array<{ port: number; to: string }>) => `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
${frontends
  .map(
    (f, i) => `frontend f${i}
  bind 127.0.0.1:${f.port}
  default_backend b${i}
backend b${i}
  http-reuse always
  server s ${f.to}
`,
  )
  .join("")}`;

const stopping = (h: Harness, ...c: ChildProcess[]) => async () => {
  await Promise.all(c.map((x) => h.stop(x)));
};

export async function direct(h: Harness, appPort: number, app: ChildProcess): Promise<Path> {
  return { name: "direct", url: `http://127.0.0.1:${appPort}/method/x`, pids: [app.pid!], stop: async () => {} };
}

// Paths run side by side (their rounds alternate), so each meshlet path has a registry of its own:
// the two-sidecar caller must not find the one-sidecar path's "app" too.
export async function oneSidecar(h: Harness, appPort: number): Promise<Path> {
  const port = await freePort();
  const s = await h.sidecar("app", port, appPort, [], path.join(h.logDir, "home-one"));
  return { name: "meshlet: one sidecar", url: `http://127.0.0.1:${port}/v1.0/invoke/app/method/x`, pids: [s.pid!], stop: stopping(h, s) };
}

export const TWO_SIDECARS = "meshlet: two sidecars";
export const TWO_SIDECARS_TRACED = "meshlet: two sidecars, tracing rate 1";
export const TWO_SIDECARS_TRACED_DEFAULT = "meshlet: two sidecars, tracing rate 0.0001";

/** Two sidecars exporting every span (or Dapr's default share) to a Zipkin receiver on loopback. */
export async function tracedSidecars(h: Harness, appPort: number, rate: string): Promise<Path> {
  const sinkPort = await freePort();
  const sink = await h.zipkinSink(`zipkin-sink-${rate}`, sinkPort);
  const config = h.tracingConfig(`tracing-${rate}.yaml`, rate, sinkPort);
  const home = path.join(h.logDir, `home-traced-${rate}`);
  const callee = await h.sidecar("app", await freePort(), appPort, ["-c", config], home);
  const port = await freePort();
  const caller = await h.sidecar("client", port, null, ["-c", config], home);
  return {
    name: rate === "1" ? TWO_SIDECARS_TRACED : TWO_SIDECARS_TRACED_DEFAULT,
    url: `http://127.0.0.1:${port}/v1.0/invoke/app/method/x`,
    pids: [caller.pid!, callee.pid!],
    stop: stopping(h, caller, callee, sink),
  };
}
export const TWO_SIDECARS_NO_METRICS = "meshlet: two sidecars, metrics off";
export const TWO_SIDECARS_SCRAPED = "meshlet: two sidecars, metrics scraped every 1 s";

/**
 * Two sidecars (mTLS on) with metrics turned off, or with both /metrics endpoints scraped every
 * second as a busy Prometheus would: what recording and exposing Dapr's metrics cost.
 */
export async function metricsSidecars(h: Harness, appPort: number, mode: "off" | "scraped"): Promise<Path> {
  const home = path.join(h.logDir, `home-metrics-${mode}`);
  const ports = [await freePort(), await freePort()];
  const extra = (i: number) => (mode === "off" ? ["--enable-metrics=false"] : ["-M", String(ports[i])]);
  const callee = await h.sidecar("app", await freePort(), appPort, extra(0), home);
  const port = await freePort();
  const caller = await h.sidecar("client", port, null, extra(1), home);
  const scraper =
    mode === "scraped"
      ? setInterval(() => {
          for (const p of ports) void fetch(`http://127.0.0.1:${p}/metrics`).then((r) => r.text(), () => "");
        }, 1000)
      : null;
  const stop = stopping(h, caller, callee);
  return {
    name: mode === "off" ? TWO_SIDECARS_NO_METRICS : TWO_SIDECARS_SCRAPED,
    url: `http://127.0.0.1:${port}/v1.0/invoke/app/method/x`,
    pids: [caller.pid!, callee.pid!],
    stop: async () => {
      if (scraper) clearInterval(scraper);
      await stop();
    },
  };
}
export const TWO_SIDECARS_PLAIN = "meshlet: two sidecars, mTLS off";

/** Two sidecars as users run them (mTLS on), or with a Configuration that turns mTLS off. */
export async function twoSidecars(h: Harness, appPort: number, mtls = true): Promise<Path> {
  const home = path.join(h.logDir, mtls ? "home-two" : "home-two-plain");
  const extra = mtls ? [] : ["-c", path.join(import.meta.dirname, "plain-config.yaml")];
  const callee = await h.sidecar("app", await freePort(), appPort, extra, home);
  const port = await freePort();
  const metrics = await freePort();
  const caller = await h.sidecar("client", port, null, [...extra, "-M", String(metrics)], home);
  const handshakes = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    return Number(/^meshlet_mtls_handshakes_total\{side="client"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };
  return {
    name: mtls ? TWO_SIDECARS : TWO_SIDECARS_PLAIN,
    url: `http://127.0.0.1:${port}/v1.0/invoke/app/method/x`,
    pids: [caller.pid!, callee.pid!],
    stop: stopping(h, caller, callee),
    ...(mtls ? { handshakes } : {}),
  };
}

export async function haproxyPaths(h: Harness, appPort: number): Promise<Array<() => Promise<Path>>> {
  if (!hasCommand("haproxy")) return [];
  const one = async (): Promise<Path> => {
    const p = await freePort();
    const c = await h.haproxy("haproxy-one", HAPROXY([{ port: p, to: `127.0.0.1:${appPort}` }]), p);
    return { name: "haproxy: one hop", url: `http://127.0.0.1:${p}/method/x`, pids: [c.pid!], stop: stopping(h, c) };
  };
  const two = async (): Promise<Path> => {
    const p1 = await freePort();
    const p2 = await freePort();
    const c = await h.haproxy(
      "haproxy-two",
      HAPROXY([
        { port: p2, to: `127.0.0.1:${appPort}` },
        { port: p1, to: `127.0.0.1:${p2}` },
      ]),
      p1,
    );
    return { name: "haproxy: two hops", url: `http://127.0.0.1:${p1}/method/x`, pids: [c.pid!], stop: stopping(h, c) };
  };
  // The same process topology as two sidecars: each hop its own process, so every call wakes two
  // processes that share one core. The fair peer for the two-sidecar figures.
  const twoProcesses = async (): Promise<Path> => {
    const inner = await freePort();
    const ci = await h.haproxy("haproxy-inner", HAPROXY([{ port: inner, to: `127.0.0.1:${appPort}` }]), inner);
    const outer = await freePort();
    const co = await h.haproxy("haproxy-outer", HAPROXY([{ port: outer, to: `127.0.0.1:${inner}` }]), outer);
    return { name: HAPROXY_TWO_PROCESSES, url: `http://127.0.0.1:${outer}/method/x`, pids: [co.pid!, ci.pid!], stop: stopping(h, co, ci) };
  };
  // The same again with mTLS between the two: the outer presents a client certificate, the inner
  // demands one that chains to the CA, and the outer verifies the inner's (meshlet's hop, in haproxy).
  const twoProcessesTls = async (): Promise<Path> => {
    const t = await haproxyCerts(h);
    const inner = await freePort();
    const ci = await h.haproxy(
      "haproxy-inner-tls",
      HAPROXY([{ port: inner, to: `127.0.0.1:${appPort}` }]).replace(`bind 127.0.0.1:${inner}`, `bind 127.0.0.1:${inner} ssl crt ${t.inner} ca-file ${t.ca} verify required`),
      inner,
      true,
    );
    const outer = await freePort();
    const co = await h.haproxy(
      "haproxy-outer-tls",
      HAPROXY([{ port: outer, to: `127.0.0.1:${inner}` }]).replace(`server s 127.0.0.1:${inner}`, `server s 127.0.0.1:${inner} ssl crt ${t.outer} ca-file ${t.ca} verify required`),
      outer,
    );
    return { name: HAPROXY_TWO_PROCESSES_TLS, url: `http://127.0.0.1:${outer}/method/x`, pids: [co.pid!, ci.pid!], stop: stopping(h, co, ci) };
  };
  return [one, two, twoProcesses, twoProcessesTls];
}

/** A CA and a certificate (chain and key in one PEM, as haproxy reads them) for each haproxy hop. */
async function haproxyCerts(h: Harness): Promise<{ ca: string; inner: string; outer: string }> {
  const { initCa, issueWorkload, loadIssuer } = await import("../security/ca.ts");
  const { newWorkloadKey } = await import("../security/pem.ts");
  const dir = path.join(h.logDir, "haproxy-ca");
  if (!fs.existsSync(dir)) await initCa(dir);
  const issuer = await loadIssuer(dir);
  const pem = async (appId: string) => {
    const key = newWorkloadKey();
    const { chainPem } = await issueWorkload(issuer, key.spkiPem, { trustDomain: "public", namespace: "default", appId }, { ttlMs: 86_400_000, skewMs: 300_000, now: Date.now() });
    const file = path.join(dir, `${appId}.pem`);
    fs.writeFileSync(file, chainPem + key.keyPem, { mode: 0o600 });
    return file;
  };
  return { ca: path.join(dir, "ca.crt"), inner: await pem("haproxy-inner"), outer: await pem("haproxy-outer") };
}

export const HAPROXY_TWO_PROCESSES = "haproxy: two processes";
export const HAPROXY_TWO_PROCESSES_TLS = "haproxy: two processes, mTLS";
export const TCP_RELAY_TWO_PROCESSES = "bun tcp relay: two processes";
export const BUN_FORWARDER_TWO_PROCESSES = "bun http forwarder: two processes";

/** Two chained Bun peers (bench/peers/): the runtime's floor without meshlet's features. */
function bunPeerChain(h: Harness, appPort: number, script: string, name: string): () => Promise<Path> {
  return async () => {
    const inner = await freePort();
    const ci = await h.bunPeer(script, `${script}-inner`, inner, appPort);
    const outer = await freePort();
    const co = await h.bunPeer(script, `${script}-outer`, outer, inner);
    return { name, url: `http://127.0.0.1:${outer}/v1.0/invoke/app/method/x`, pids: [co.pid!, ci.pid!], stop: stopping(h, co, ci) };
  };
}

/** A byte relay (no HTTP work at all) and an HTTP forwarder on meshlet's dialer (no features). */
export function bunFloorPaths(h: Harness, appPort: number): Array<() => Promise<Path>> {
  return [bunPeerChain(h, appPort, "tcp-relay.ts", TCP_RELAY_TWO_PROCESSES), bunPeerChain(h, appPort, "bun-forwarder.ts", BUN_FORWARDER_TWO_PROCESSES)];
}

export async function httpProxyPaths(h: Harness, appPort: number): Promise<Array<() => Promise<Path>>> {
  const one = async (): Promise<Path> => {
    const p = await freePort();
    const c = await h.httpProxy("httpproxy-one", p, `http://127.0.0.1:${appPort}`);
    return { name: "http-proxy: one hop", url: `http://127.0.0.1:${p}/method/x`, pids: [c.pid!], stop: stopping(h, c) };
  };
  const two = async (): Promise<Path> => {
    const p2 = await freePort();
    const inner = await h.httpProxy("httpproxy-two-inner", p2, `http://127.0.0.1:${appPort}`);
    const p1 = await freePort();
    const outer = await h.httpProxy("httpproxy-two-outer", p1, `http://127.0.0.1:${p2}`);
    return { name: "http-proxy: two hops", url: `http://127.0.0.1:${p1}/method/x`, pids: [outer.pid!, inner.pid!], stop: stopping(h, outer, inner) };
  };
  return [one, two];
}
