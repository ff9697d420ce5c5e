// meshlet's OTLP/HTTP export: span records serialized by OpenTelemetry's JSON serializer arrive at a
// receiver on loopback with the configured headers, the resource's service.name and the records'
// ids, links and attributes; a failing or absent receiver fails the export.

import type http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpanRecord } from "./span-records.ts";
import { recording } from "../test/span-fixtures.ts";
import { otlpExport } from "./otlp-export.ts";
import { EXPORT_RETRY } from "./collector-post.ts";
import { undiciDialer } from "../runtime/dial-undici.ts";
import { collectorReceiver, type CollectorReceiver } from "../test/collector-receiver.ts";

type Got = { headers: http.IncomingHttpHeaders; body: { resourceSpans: Array<{ resource: { attributes: Kv[] }; scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }> }> } };
type Kv = { key: string; value: { stringValue?: string; intValue?: number | string; boolValue?: boolean } };
type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: Kv[]; status: { code?: number; message?: string } };

let rx: CollectorReceiver;
const got = () => rx.posts as Got[];

beforeAll(async () => {
  rx = await collectorReceiver("/v1/traces", 200);
});
afterAll(() => rx.close());

function records(): SpanRecord[] {
  const { spans, start } = recording();
  const server = start("CallLocal/inventory/items", "server", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null);
  server.setAll({ "dapr.api": "GET /v1.0/invoke/inventory/method/items", "dapr.status_code": 503 });
  server.fail("status 503");
  const attempt = start("/dapr.proto.internals.v1.ServiceInvocation/CallLocal", "client", server.traceparent);
  attempt.set("meshlet.attempt", 2);
  attempt.end();
  server.end();
  return spans;
}

const send = (e: ReturnType<typeof otlpExport>, spans: SpanRecord[]) => new Promise<{ code: number; error?: Error }>((resolve) => e.export(spans.map(e.prepare), resolve));
const attr = (kvs: Kv[], key: string) => kvs.find((a) => a.key === key)?.value;

describe.each([
  ["node:http", () => null],
  ["a runtime dialer", () => undiciDialer()],
])("OTLP/HTTP export through %s", (_, dialer) => {
  it("posts OpenTelemetry's JSON with the configured headers, the service name, ids, parent links and attributes", async () => {
    rx.posts.length = 0;
    const e = otlpExport({ protocol: "http", url: rx.url, headers: { authorization: "Bearer t0ken" }, timeoutMs: 5_000 }, dialer());
    expect(await send(e, records())).toEqual({ code: 0 });
    await e.shutdown();
    expect(got()).toHaveLength(1);
    expect(got()[0]!.headers["content-type"]).toBe("application/json");
    expect(got()[0]!.headers.authorization).toBe("Bearer t0ken");
    const [rs] = got()[0]!.body.resourceSpans;
    expect(attr(rs!.resource.attributes, "service.name")).toEqual({ stringValue: "storefront" });
    const [attempt, server] = rs!.scopeSpans[0]!.spans;
    expect(server).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentSpanId: "00f067aa0ba902b7", name: "CallLocal/inventory/items", kind: 2, status: { code: 2, message: "status 503" } });
    expect(attr(server!.attributes, "dapr.status_code")).toEqual({ intValue: 503 });
    expect(attempt!.parentSpanId).toBe(server!.spanId);
    expect(attr(attempt!.attributes, "meshlet.attempt")).toEqual({ intValue: 2 });
  });

  it("fails the export when the receiver answers an error or is gone", async () => {
    rx.status = 503;
    // Retrying is collector-export.test.ts's subject: here one try says what a failure looks like.
    const once = { ...EXPORT_RETRY, backoffMs: [] };
    const e = otlpExport({ protocol: "http", url: rx.url, headers: {}, timeoutMs: 5_000 }, dialer(), once);
    const r = await send(e, records());
    rx.status = 200;
    expect(r.code).toBe(1);
    expect(r.error?.message).toMatch(/otlp: 503/);
    const gone = otlpExport({ protocol: "http", url: "http://127.0.0.1:9/v1/traces", headers: {}, timeoutMs: 5_000 }, dialer(), once);
    expect((await send(gone, records())).code).toBe(1);
    await gone.shutdown();
    await e.shutdown();
    expect((await send(e, records())).code).toBe(1);
  });
});
