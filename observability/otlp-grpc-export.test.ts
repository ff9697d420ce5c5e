// meshlet's OTLP/gRPC export against a gRPC collector built on @grpc/grpc-js: the same span records
// sent by OpenTelemetry's own OTLP/gRPC exporter and by meshlet arrive as the same protobuf bytes,
// with the configured metadata; a collector that answers an error status, hangs or is gone fails
// the export with a message that says which.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import type { SpanRecord } from "./span-records.ts";
import { recording } from "../test/span-fixtures.ts";
import { otlpExport } from "./otlp-export.ts";
import { grpcFrame, grpcVerdict } from "./grpc-post.ts";
import { EXPORT_RETRY, type RetryOptions } from "./collector-post.ts";
import { fakeClock } from "../core/fake-clock.ts";
import { retryInfoDelayMs } from "./grpc-retry-info.ts";
import { otlpGrpcReceiver, type OtlpGrpcReceiver } from "../test/otlp-grpc-receiver.ts";

let rx: OtlpGrpcReceiver;

beforeAll(async () => {
  rx = await otlpGrpcReceiver();
});
afterAll(() => rx.close());

function records(): SpanRecord[] {
  const { spans, start } = recording();
  const server = start("CallLocal/inventory/items", "server", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v", 1_700_000_000_100.25);
  server.setAll({ "dapr.api": "GET /v1.0/invoke/inventory/method/items", "dapr.status_code": 503, "meshlet.found": true });
  server.fail("status 503");
  const attempt = start("/dapr.proto.internals.v1.ServiceInvocation/CallLocal", "client", server.traceparent, null, 1_700_000_000_100.5);
  attempt.set("meshlet.attempt", 2);
  attempt.end(1_700_000_000_102.125);
  server.end(1_700_000_000_103);
  return spans;
}

type Result = { code: number; error?: Error };
/** Polls until `ok` (the export's next step runs after network I/O, outside the fake clock). */
async function waitForCondition(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
}
const send = (e: ReturnType<typeof otlpExport>, spans: SpanRecord[]) => new Promise<Result>((resolve) => e.export(spans.map(e.prepare), resolve));
const ONCE = { ...EXPORT_RETRY, backoffMs: [] };
const grpcTarget = (o: { url?: string; headers?: Record<string, string>; timeoutMs?: number; retry?: RetryOptions } = {}) =>
  otlpExport({ protocol: "grpc", url: o.url ?? rx.url, headers: o.headers ?? {}, timeoutMs: o.timeoutMs ?? 5_000 }, null, o.retry ?? ONCE);

describe("OTLP/gRPC export", () => {
  it("sends what OpenTelemetry's OTLP/gRPC exporter sends for the same spans, with the configured metadata", async () => {
    rx.calls.length = 0;
    const spans = records();
    const theirs = new OTLPTraceExporter({ url: rx.url, credentials: grpc.credentials.createInsecure() });
    expect(await new Promise<Result>((r) => theirs.export(spans as never, r))).toEqual({ code: 0 });
    await theirs.shutdown();
    const mine = grpcTarget({ headers: { "X-Api-Key": "s3cret" } });
    expect(await send(mine, spans)).toEqual({ code: 0 });
    await mine.shutdown();

    expect(rx.calls).toHaveLength(2);
    expect(rx.calls[1]!.bytes.equals(rx.calls[0]!.bytes)).toBe(true);
    expect(rx.calls[1]!.metadata["x-api-key"]).toBe("s3cret");

    const [rs] = rx.calls[1]!.request.resourceSpans;
    expect(rs!.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue).toBe("storefront");
    const [attempt, server] = rs!.scopeSpans[0]!.spans;
    expect(server).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentSpanId: "00f067aa0ba902b7", traceState: "k=v", name: "CallLocal/inventory/items", kind: 2, status: { code: 2, message: "status 503" } });
    expect(server!.startTimeUnixNano).toBe("1700000000100250000");
    expect(server!.attributes.find((a) => a.key === "dapr.status_code")?.value.intValue).toBe("503");
    expect(attempt!.parentSpanId).toBe(server!.spanId);
    expect(attempt!.kind).toBe(3);
  });

  it("sends a batch again after UNAVAILABLE, waiting on the injected clock, and the collector gets it once it is back", async () => {
    rx.calls.length = 0;
    const fc = fakeClock();
    const e = grpcTarget({ retry: { clock: fc.clock, random: () => 0.5, backoffMs: [250, 500, 1_000] } });
    rx.failures = 2;
    const result = send(e, records());
    for (const wait of [250, 500]) {
      await waitForCondition(() => fc.pending() === 1);
      fc.advance(wait - 1);
      expect(fc.pending()).toBe(1);
      fc.advance(1);
    }
    expect(await result).toEqual({ code: 0 });
    expect(rx.calls).toHaveLength(3);
    expect(new Set(rx.calls.map((c) => c.bytes.toString("hex"))).size).toBe(1);
    await e.shutdown();
  });

  it("waits as long as the collector's RetryInfo says, which makes RESOURCE_EXHAUSTED retryable, and does not retry RESOURCE_EXHAUSTED without it", async () => {
    rx.calls.length = 0;
    const fc = fakeClock();
    const e = grpcTarget({ retry: { clock: fc.clock, random: () => 0.5, backoffMs: [250, 500, 1_000] } });
    rx.code = grpc.status.RESOURCE_EXHAUSTED;
    rx.details = retryInfoStatus(grpc.status.RESOURCE_EXHAUSTED, 2, 500_000_000);
    const result = send(e, records());
    await waitForCondition(() => fc.pending() === 1);
    rx.code = grpc.status.OK;
    rx.details = null;
    fc.advance(2_499);
    expect(rx.calls).toHaveLength(1);
    fc.advance(1);
    expect(await result).toEqual({ code: 0 });
    expect(rx.calls).toHaveLength(2);

    rx.code = grpc.status.RESOURCE_EXHAUSTED;
    const plain = await send(e, records());
    rx.code = grpc.status.OK;
    expect(plain.error?.message).toBe("otlp answered RESOURCE_EXHAUSTED: collector says no (test)");
    expect(rx.calls).toHaveLength(3);
    await e.shutdown();
  });

  it("reuses one connection for many exports", async () => {
    rx.calls.length = 0;
    const e = grpcTarget();
    for (let i = 0; i < 5; i++) expect(await send(e, records())).toEqual({ code: 0 });
    await e.shutdown();
    expect(rx.calls).toHaveLength(5);
    expect(new Set(rx.calls.map((c) => c.peer)).size).toBe(1);
    // A new client is a new connection (the check above can tell).
    const other = grpcTarget();
    expect(await send(other, records())).toEqual({ code: 0 });
    await other.shutdown();
    expect(rx.calls[5]!.peer).not.toBe(rx.calls[0]!.peer);
  });

  it("fails the export, saying why, when the collector answers an error status, hangs or is gone", async () => {
    const e = grpcTarget({ timeoutMs: 300 });
    rx.code = grpc.status.UNAVAILABLE;
    const refused = await send(e, records());
    rx.code = grpc.status.OK;
    expect(refused.code).toBe(1);
    expect(refused.error?.message).toBe("otlp answered UNAVAILABLE: collector says no (test)");

    rx.hang = true;
    const t0 = performance.now();
    const hung = await send(e, records());
    rx.hang = false;
    expect(hung.error?.message).toBe("no answer from otlp in 300 ms");
    expect(performance.now() - t0).toBeLessThan(3_000);
    // The next export goes through on the same client.
    expect(await send(e, records())).toEqual({ code: 0 });
    await e.shutdown();
    expect((await send(e, records())).code).toBe(1);

    const gone = grpcTarget({ url: "http://127.0.0.1:9" });
    const r = await send(gone, records());
    expect(r.code).toBe(1);
    expect(r.error?.message).toMatch(/ECONNREFUSED/);
    await gone.shutdown();
  });
});

describe("gRPC's wire pieces", () => {
  it("frames a message with a zero flag and its big-endian length", () => {
    expect([...grpcFrame(new Uint8Array([7, 8, 9]))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
    expect(grpcFrame(new Uint8Array(70_000)).readUInt32BE(1)).toBe(70_000);
  });

  it("reads the verdict from grpc-status, decoding grpc-message, refuses an answer that is not gRPC, and marks OTLP's transient codes retryable", () => {
    expect(grpcVerdict("otlp", 200, { "grpc-status": "0" })).toBeNull();
    expect(grpcVerdict("otlp", 200, { "grpc-status": "16", "grpc-message": "bad%20token" })).toEqual({ message: "otlp answered UNAUTHENTICATED: bad token", retryable: false, code: 16 });
    expect(grpcVerdict("otlp", 200, { "grpc-status": "42" })).toEqual({ message: "otlp answered gRPC status 42", retryable: false, code: 42 });
    expect(grpcVerdict("otlp", 200, {})).toEqual({ message: "otlp ended the call without a grpc-status", retryable: false });
    expect(grpcVerdict("otlp", 404, { "content-type": "text/html" })).toEqual({ message: "otlp answered HTTP 404 (text/html), not gRPC", retryable: false });
    expect(grpcVerdict("otlp", 503, {})?.retryable).toBe(true);
    const retryable = [...Array(17).keys()].filter((c) => grpcVerdict("otlp", 200, { "grpc-status": String(c) })?.retryable);
    expect(retryable).toEqual([1, 4, 10, 11, 14, 15]);
  });

  it("reads RetryInfo's delay from a google.rpc.Status, written here byte by byte from the protobuf wire format", async () => {
    expect(await retryInfoDelayMs(retryInfoStatus(8, 2, 500_000_000))).toBe(2_500);
    expect(await retryInfoDelayMs(retryInfoStatus(14, 0, 30_000_000).toString("base64"))).toBe(30);
    // Other details only (a google.rpc.ErrorInfo), no details, and bytes that are not a Status.
    expect(await retryInfoDelayMs(status(8, [any("type.googleapis.com/google.rpc.ErrorInfo", Buffer.from([0x0a, 0x01, 0x78]))]))).toBeNull();
    expect(await retryInfoDelayMs(status(8, []))).toBeNull();
    expect(await retryInfoDelayMs(Buffer.from([0xff, 0xff, 0xff]))).toBeNull();
  });
});

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
/** A length-delimited field. */
const bytesField = (field: number, b: Buffer) => Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(b.length)]), b]);
/** google.protobuf.Any. */
const any = (typeUrl: string, value: Buffer) => Buffer.concat([bytesField(1, Buffer.from(typeUrl)), bytesField(2, value)]);
/** google.rpc.Status with its code and details. */
const status = (code: number, details: Buffer[]) => Buffer.concat([Buffer.from([0x08, ...varint(code)]), ...details.map((d) => bytesField(3, d))]);
/** google.rpc.Status carrying one google.rpc.RetryInfo whose retry_delay is a google.protobuf.Duration. */
function retryInfoStatus(code: number, seconds: number, nanos: number): Buffer {
  const duration = Buffer.from([...(seconds ? [0x08, ...varint(seconds)] : []), ...(nanos ? [0x10, ...varint(nanos)] : [])]);
  return status(code, [any("type.googleapis.com/google.rpc.RetryInfo", bytesField(1, duration))]);
}
