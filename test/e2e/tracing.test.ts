// Tracing end to end: two sidecars with spec.tracing export to a Zipkin v2 receiver and an OTLP/HTTP
// receiver on loopback. One call with a client traceparent yields, in that trace: the caller's
// server span, one client span per attempt (retries included), the name-resolution span, the
// callee's server span and its call to the app, linked parent to child. A dead collector neither
// slows nor fails a call. OTLP also goes over gRPC (Dapr's default protocol) and over TLS to
// collectors whose private CA the sidecar is given through NODE_EXTRA_CA_CERTS.

import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { killAll, startSidecar, tempFile, tempHome, waitFor, type Sidecar, expectOutput } from "../helpers.ts";
import { serverCerts } from "../tls.ts";
import { otlpGrpcReceiver } from "../otlp-grpc-receiver.ts";

interface ZSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** A receiver for Zipkin v2 JSON and OTLP/HTTP JSON: spans as they arrive. */
function receiver(): Promise<{ port: number; zipkin: ZSpan[]; otlp: { traceId: string; spanId: string; parentSpanId?: string; name: string }[]; close(): void }> {
  const zipkin: ZSpan[] = [];
  const otlp: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] = [];
  const srv = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      if (req.url === "/api/v2/spans") zipkin.push(...(JSON.parse(body) as ZSpan[]));
      if (req.url === "/v1/traces") {
        const j = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] }[] }[] };
        for (const rs of j.resourceSpans) for (const ss of rs.scopeSpans) otlp.push(...ss.spans);
      }
      res.writeHead(req.url === "/v1/traces" ? 200 : 202);
      res.end("{}");
    });
  });
  return new Promise((resolve) =>
    srv.listen(0, "127.0.0.1", () => resolve({ port: (srv.address() as net.AddressInfo).port, zipkin, otlp, close: () => srv.close() })),
  );
}

let rx: Awaited<ReturnType<typeof receiver>>;
let caller: Sidecar;

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

beforeAll(async () => {
  rx = await receiver();
  const home = tempHome();
  const config = tempFile(
    "tracing.yaml",
    `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: tracing}
spec:
  tracing:
    samplingRate: "1"
    zipkin:
      endpointAddress: "http://127.0.0.1:${rx.port}/api/v2/spans"
    otel:
      endpointAddress: "127.0.0.1:${rx.port}"
      isSecure: false
      protocol: http
`,
  );
  const resiliency = tempFile(
    "r.yaml",
    "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec:\n  policies:\n    retries:\n      twice: {policy: constant, duration: 10ms, maxRetries: 2}\n    circuitBreakers:\n      cb: {maxRequests: 1, timeout: 1s, trip: consecutiveFailures > 5}\n  targets:\n    apps:\n      inventory: {retry: twice, circuitBreaker: cb}\n",
  );
  await startSidecar({ appId: "inventory", home, echo: true, args: ["-c", config] });
  caller = await startSidecar({ appId: "storefront", home, args: ["-c", config, "--resources-path", resiliency] });
});
afterAll(async () => {
  rx.close();
  await killAll();
});

async function spansOf(traceId: string, want: number, from: () => { traceId: string }[]): Promise<void> {
  for (let i = 0; i < 100 && from().filter((s) => s.traceId === traceId).length < want; i++) await new Promise((r) => setTimeout(r, 100));
}

describe("tracing", () => {
  it("continues the client's trace through both sidecars, one span per attempt, linked parent to child", async () => {
    const parent = `00-${TRACE}-00f067aa0ba902b7-01`;
    const r = await fetch(`${caller.url}/v1.0/invoke/inventory/method/flaky?key=t${Date.now()}&fail=1`, { headers: { traceparent: parent } });
    expect(r.status).toBe(200);
    // The client's trace is kept, never replaced; the answer names this sidecar's span in it.
    expect(r.headers.get("traceparent")).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    // caller server + resolution + 2 attempts + 2 callee servers + 2 app calls
    await spansOf(TRACE, 8, () => rx.zipkin);
    const spans = rx.zipkin.filter((s) => s.traceId === TRACE);
    const byId = new Map(spans.map((s) => [s.id, s]));
    const server = spans.filter((s) => s.kind === "SERVER" && s.localEndpoint?.serviceName === "storefront");
    expect(server).toHaveLength(1);
    expect(server[0]!.name.toLowerCase()).toBe("calllocal/inventory/flaky");
    expect(server[0]!.parentId).toBe("00f067aa0ba902b7");
    expect(server[0]!.tags?.["dapr.api"]).toMatch(/^GET \/v1\.0\/invoke\/inventory\/method\/flaky/);
    const attempts = spans.filter((s) => s.kind === "CLIENT" && s.localEndpoint?.serviceName === "storefront").sort((a, b) => Number(a.tags?.["meshlet.attempt"]) - Number(b.tags?.["meshlet.attempt"]));
    expect(attempts.map((a) => a.tags?.["meshlet.attempt"])).toEqual(["1", "2"]);
    for (const a of attempts) expect(a.parentId).toBe(server[0]!.id);
    expect(attempts[0]!.tags?.["http.response.status_code"]).toBe("503");
    expect(attempts[1]!.tags?.["meshlet.retry_reason"]).toBe("status 503");
    expect(attempts[1]!.tags?.["net.sock.peer.addr"]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(attempts.map((a) => a.tags?.["meshlet.breaker_state"])).toEqual(["closed", "closed"]);
    const resolve = spans.find((s) => s.name === "resolve inventory");
    expect(resolve?.parentId).toBe(server[0]!.id);
    expect(resolve?.tags?.["meshlet.resolver"]).toBe("local");
    const calleeServers = spans.filter((s) => s.kind === "SERVER" && s.localEndpoint?.serviceName === "inventory");
    expect(calleeServers).toHaveLength(2);
    for (const c of calleeServers) expect(byId.get(c.parentId!)?.kind).toBe("CLIENT");
    const appCalls = spans.filter((s) => s.kind === "CLIENT" && s.localEndpoint?.serviceName === "inventory");
    expect(appCalls).toHaveLength(2);
    for (const a of appCalls) expect(byId.get(a.parentId!)?.localEndpoint?.serviceName).toBe("inventory");
  });

  it("exports the same trace over OTLP/HTTP", async () => {
    await spansOf(TRACE, 8, () => rx.otlp);
    const spans = rx.otlp.filter((s) => s.traceId === TRACE);
    expect(spans.length).toBeGreaterThanOrEqual(8);
    const ids = new Set(spans.map((s) => s.spanId));
    // Every span but the caller's server span has its parent in the trace.
    expect(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).map((s) => s.parentSpanId)).toEqual(["00f067aa0ba902b7"]);
  });

  it("answers an invalid baggage header with Dapr's 400 in plain text, and passes a valid one on", async () => {
    const bad = await fetch(`${caller.url}/v1.0/invoke/inventory/method/x`, { headers: { baggage: "no-equals-sign" } });
    expect([bad.status, bad.headers.get("meshlet-reason"), await bad.text()]).toEqual([400, "invalid_baggage", "invalid baggage header\n"]);
    const good = await fetch(`${caller.url}/v1.0/invoke/inventory/method/x`, { headers: { baggage: "userId=alice,serverNode=DF%2028;ttl=5" } });
    expect(good.status).toBe(200);
    expect(((await good.json()) as { headers: Record<string, string> }).headers.baggage).toBe("userId=alice,serverNode=DF%2028;ttl=5");
  });

  it("continues a traceparent of a newer W3C version, read by version 00's layout", async () => {
    const trace = "5bf92f3577b34da6a3ce929d0e0e4736";
    const r = await fetch(`${caller.url}/v1.0/invoke/inventory/method/x`, { headers: { traceparent: ` 01-${trace}-00f067aa0ba902b7-01 ` } });
    expect(r.status).toBe(200);
    expect(r.headers.get("traceparent")).toMatch(new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
  });

  it("starts a new trace for a malformed traceparent", async () => {
    const r = await fetch(`${caller.url}/v1.0/invoke/inventory/method/x`, { headers: { traceparent: "00-zz-yy-01" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });
});

describe("a dead collector", () => {
  it("adds no latency and fails no call", async () => {
    // A port nothing can listen on for the test's length: held on 127.0.0.1, so no other test's
    // listener (specific or wildcard) can take it, and dialled on 127.77.0.1, where nothing
    // listens, so each connection is refused. (A port merely closed was taken by a parallel
    // test's listener once in CI, and the warning then named ECONNRESET.)
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => void holder.close());
    const dead = (holder.address() as net.AddressInfo).port;
    const home = tempHome();
    const config = tempFile("dead.yaml", `kind: Configuration\nspec:\n  tracing:\n    samplingRate: "1"\n    zipkin:\n      endpointAddress: "http://127.77.0.1:${dead}/api/v2/spans"\n`);
    const s = await startSidecar({ appId: "lonely", home, echo: true, args: ["-c", config] });
    // Said at start, in one line: the collector is down, calls go on.
    await waitFor("the start-time warning", async () => s.output().includes("trace collector not reachable at start"), 5_000);
    await expectOutput(s, new RegExp(`trace collector not reachable at start.*exporter="zipkin http://127\\.77\\.0\\.1:${dead}/api/v2/spans" error=ECONNREFUSED`));
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      const r = await fetch(`${s.url}/v1.0/invoke/lonely/method/x`);
      await r.arrayBuffer();
      expect(r.status).toBe(200);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    // Export is batched off the request path: even while it fails, a call stays a local round trip.
    expect(times[Math.floor(times.length / 2)]!).toBeLessThan(20);
    await new Promise((r) => setTimeout(r, 1500));
    await expectOutput(s, "trace export failed; spans dropped (calls are not affected)");
  });
});

describe("an OTLP collector over https (isSecure, Dapr's default)", () => {
  it("gets the spans when its CA is trusted through NODE_EXTRA_CA_CERTS, and only a warning when it is not", async () => {
    const c = serverCerts();
    const traces: string[] = [];
    const srv = https.createServer({ key: fs.readFileSync(c.key), cert: fs.readFileSync(c.cert) }, (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (d: string) => (body += d));
      req.on("end", () => {
        if (req.url === "/v1/traces") traces.push(body);
        res.writeHead(200).end("{}");
      });
    });
    const port = await new Promise<number>((r) => srv.listen(0, "127.0.0.1", () => r((srv.address() as net.AddressInfo).port)));
    try {
      // No scheme and no isSecure: https, as in Dapr.
      const config = tempFile("secure.yaml", `kind: Configuration\nspec:\n  tracing:\n    samplingRate: "1"\n    otel:\n      endpointAddress: "127.0.0.1:${port}"\n      protocol: http\n`);
      const trusted = await startSidecar({ appId: "vault", home: tempHome(), echo: true, args: ["-c", config], env: { NODE_EXTRA_CA_CERTS: c.ca } });
      await expectOutput(trusted, `exporters="otlp https://127.0.0.1:${port}/v1/traces"`);
      const trace = "6bf92f3577b34da6a3ce929d0e0e4736";
      const r = await fetch(`${trusted.url}/v1.0/invoke/vault/method/x`, { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
      expect(r.status).toBe(200);
      await waitFor("the spans at the https collector", async () => traces.some((t) => t.includes(trace)), 10_000);

      // The same collector, its CA not trusted: the export fails and says why; calls go on.
      const untrusted = await startSidecar({ appId: "vault2", home: tempHome(), echo: true, args: ["-c", config] });
      for (let i = 0; i < 3; i++) expect((await fetch(`${untrusted.url}/v1.0/invoke/vault2/method/x`)).status).toBe(200);
      await waitFor("the export warning", async () => untrusted.output().includes("trace export failed"), 10_000);
      await expectOutput(untrusted, /trace export failed; spans dropped \(calls are not affected\).*exporter="otlp https:\/\/127\.0\.0\.1:\d+\/v1\/traces".*error="[^"]*certificate/);
      expect(traces.some((t) => t.includes("vault2"))).toBe(false);
    } finally {
      srv.close();
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
  });
});

describe("an OTLP collector over gRPC (Dapr's default protocol)", () => {
  const callOnce = async (url: string, appId: string, trace: string) => {
    const r = await fetch(`${url}/v1.0/invoke/${appId}/method/items`, { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
    expect(r.status).toBe(200);
  };

  it("gets the call's spans in protobuf, linked and named as over HTTP", async () => {
    const rx = await otlpGrpcReceiver();
    try {
      // No protocol: gRPC, as in Dapr.
      const config = tempFile("grpc.yaml", `kind: Configuration\nspec:\n  tracing:\n    samplingRate: "1"\n    otel:\n      endpointAddress: "127.0.0.1:${rx.port}"\n      isSecure: false\n      headers: [{name: x-tenant, value: blue}]\n`);
      const s = await startSidecar({ appId: "ledger", home: tempHome(), echo: true, args: ["-c", config] });
      await expectOutput(s, `exporters="otlp grpc http://127.0.0.1:${rx.port}"`);
      const trace = "7bf92f3577b34da6a3ce929d0e0e4736";
      await callOnce(s.url, "ledger", trace);
      const spans = () => rx.calls.flatMap((c) => c.request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))).filter((x) => x.traceId === trace);
      // The sidecar's server span and its call to its own app.
      await waitFor("the spans at the gRPC collector", async () => spans().length >= 2, 10_000);
      const server = spans().find((x) => x.name === "CallLocal/ledger/items" && x.parentSpanId === "00f067aa0ba902b7");
      expect(server?.kind).toBe(2);
      expect(spans().find((x) => x.name === "/dapr.proto.internals.v1.ServiceInvocation/CallLocal")?.parentSpanId).toBe(server!.spanId);
      const ids = new Set(spans().map((x) => x.spanId));
      expect(spans().filter((x) => !ids.has(x.parentSpanId)).map((x) => x.parentSpanId)).toEqual(["00f067aa0ba902b7"]);
      expect(rx.calls[0]!.metadata["x-tenant"]).toBe("blue");
      expect(rx.calls[0]!.request.resourceSpans[0]!.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue).toBe("ledger");
    } finally {
      await rx.close();
    }
  });

  it("speaks TLS when isSecure is left at Dapr's default, trusting a CA from NODE_EXTRA_CA_CERTS", async () => {
    const c = serverCerts();
    const rx = await otlpGrpcReceiver({ cert: c.cert, key: c.key });
    try {
      const config = tempFile("grpcs.yaml", `kind: Configuration\nspec:\n  tracing:\n    samplingRate: "1"\n    otel:\n      endpointAddress: "127.0.0.1:${rx.port}"\n      protocol: grpc\n`);
      const s = await startSidecar({ appId: "ledger2", home: tempHome(), echo: true, args: ["-c", config], env: { NODE_EXTRA_CA_CERTS: c.ca } });
      await expectOutput(s, `exporters="otlp grpc https://127.0.0.1:${rx.port}"`);
      const trace = "8bf92f3577b34da6a3ce929d0e0e4736";
      await callOnce(s.url, "ledger2", trace);
      await waitFor("the spans at the TLS gRPC collector", async () => rx.calls.some((x) => x.request.resourceSpans.some((rs) => rs.scopeSpans.some((ss) => ss.spans.some((sp) => sp.traceId === trace)))), 10_000);
    } finally {
      await rx.close();
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
  });
});

describe("the stdout exporter", () => {
  it("prints each span of a sampled call, with the client's trace id", async () => {
    const config = tempFile("stdout.yaml", `kind: Configuration\nspec:\n  tracing:\n    samplingRate: "1"\n    stdout: true\n`);
    const s = await startSidecar({ appId: "printer", home: tempHome(), echo: true, args: ["-c", config] });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const r = await fetch(`${s.url}/v1.0/invoke/printer/method/page`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(r.status).toBe(200);
    await waitFor("the span on stdout", async () => s.output().includes("CallLocal/printer/page"), 5_000);
    await expectOutput(s, traceId);
  });
});
