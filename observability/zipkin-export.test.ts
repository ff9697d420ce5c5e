// meshlet's Zipkin v2 export against @opentelemetry/exporter-zipkin: the same span records sent by
// both to a receiver on loopback arrive as the same JSON, and a failing receiver fails the export.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZipkinExporter } from "@opentelemetry/exporter-zipkin";
import type { SpanRecord } from "./span-records.ts";
import { recording } from "../test/span-fixtures.ts";
import { zipkinExport } from "./zipkin-export.ts";
import { EXPORT_RETRY } from "./collector-post.ts";
import { undiciDialer } from "../runtime/dial-undici.ts";
import { collectorReceiver, type CollectorReceiver } from "../test/collector-receiver.ts";

let rx: CollectorReceiver;
const bodies = () => rx.posts.map((p) => p.body);

beforeAll(async () => {
  rx = await collectorReceiver("/api/v2/spans", 202);
});
afterAll(() => rx.close());

function records(): SpanRecord[] {
  const { spans, start } = recording();
  const server = start("CallLocal/inventory/items", "server", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v", 1_700_000_000_100.25);
  server.set("dapr.api", 'GET /v1.0/invoke/inventory/method/items?q="x"');
  server.set("dapr.status_code", 503);
  server.set("meshlet.found", true);
  server.fail("status 503 (\u001b app said \"no\")");
  const attempt = start("/dapr.proto.internals.v1.ServiceInvocation/CallLocal", "client", server.traceparent, null, 1_700_000_000_100.5);
  attempt.set("meshlet.attempt", 1);
  attempt.end(1_700_000_000_102.125);
  start("resolve inventory", "internal", server.traceparent, null, 1_700_000_000_100.3).end(1_700_000_000_100.4);
  server.end(1_700_000_000_103);
  start("root", "client", null).end();
  return spans;
}

type Result = { code: number; error?: Error };
/** Exports through OpenTelemetry's exporter (records as they are) or meshlet's (each prepared as its queue would). */
const send = (e: ZipkinExporter | ReturnType<typeof zipkinExport>, spans: SpanRecord[]) =>
  new Promise<Result>((resolve) => (e instanceof ZipkinExporter ? e.export(spans as never, resolve) : e.export(spans.map(e.prepare), resolve)));

// The sidecar sends through its runtime's dialer (Bun's in a sidecar; undici's under Node here); without one, node:http.
describe.each([
  ["node:http", () => null],
  ["a runtime dialer", () => undiciDialer()],
])("Zipkin export through %s", (_, dialer) => {
  it("sends what OpenTelemetry's Zipkin exporter sends for the same spans", async () => {
    rx.posts.length = 0;
    const spans = records();
    expect(await send(new ZipkinExporter({ url: rx.url }), spans)).toEqual({ code: 0 });
    const mine = zipkinExport(rx.url, "storefront", dialer());
    expect(await send(mine, spans)).toEqual({ code: 0 });
    await mine.shutdown();
    expect(bodies()).toHaveLength(2);
    // Zipkin's timestamp is an int64 of epoch µs; the library sends a fraction where meshlet rounds.
    const library = (bodies()[0] as Array<{ timestamp: number }>).map((s) => ({ ...s, timestamp: Math.round(s.timestamp) }));
    expect(bodies()[1]).toEqual(library);
    for (const s of bodies()[1] as Array<{ timestamp: number }>) expect(Number.isInteger(s.timestamp)).toBe(true);
    const [attempt, , server] = bodies()[1] as Array<Record<string, unknown>>;
    expect(server).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentId: "00f067aa0ba902b7", kind: "SERVER", timestamp: 1_700_000_000_100_250, duration: 2750 });
    expect((server!.tags as Record<string, string>)["error"]).toBe('status 503 (\u001b app said "no")');
    expect(attempt!.parentId).toBe(server!.id);
  });

  it("fails the export when the receiver answers an error or is gone", async () => {
    rx.status = 500;
    const e = zipkinExport(rx.url, "storefront", dialer());
    const r = await send(e, records());
    rx.status = 202;
    expect(r.code).toBe(1);
    expect(r.error?.message).toMatch(/500/);
    // Retrying is collector-export.test.ts's subject: here one try says what a failure looks like.
    const gone = zipkinExport("http://127.0.0.1:9/api/v2/spans", "storefront", dialer(), { ...EXPORT_RETRY, backoffMs: [] });
    expect((await send(gone, records())).code).toBe(1);
    await gone.shutdown();
    await e.shutdown();
    expect((await send(e, records())).code).toBe(1);
  });
});
