// Span records and their export queue: parent-based sampling over a ratio, W3C ids, the fields the
// OpenTelemetry exporters read.

import { describe, expect, it } from "vitest";
import { hrTime, spanStarter, UnrecordedSpan, type SpanRecord } from "./span-records.ts";
import { parseTraceparent } from "../core/trace-context.ts";

function sink() {
  const pushed: SpanRecord[] = [];
  return { pushed, s: { resource: { attributes: { "service.name": "x" } }, scope: { name: "meshlet" }, push: (r: SpanRecord) => void pushed.push(r) } };
}

describe("span records", () => {
  it("follow a valid parent's trace and sampled flag, and start sampled roots at the ratio", () => {
    const { s, pushed } = sink();
    const start = spanStarter(0, s);
    const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const child = start("CallLocal/a/b", "server", parent, "k=v") as SpanRecord;
    expect(child.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(child.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(child.spanContext().traceState?.serialize()).toBe("k=v");
    child.set("dapr.protocol", "http");
    child.fail("status 503");
    child.end();
    expect(pushed).toEqual([child]);
    expect(child.attributes).toEqual({ "dapr.protocol": "http" });
    expect(child.status).toEqual({ code: 2, message: "status 503" });
    expect(child.kind).toBe(1);
    // Not sampled: an unsampled parent, a zero id, or a root at rate 0.
    const quiet = [start("x", "client", parent.replace(/01$/, "00")), start("x", "client", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`), start("x", "client", null)];
    // An unsampled parent's context goes on as it came; an unsampled root gets fresh ids.
    expect(quiet[0]!.traceparent).toBe(parent.replace(/01$/, "00"));
    expect(quiet[2]!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    for (const q of quiet) {
      expect(q).toBeInstanceOf(UnrecordedSpan);
      expect(q.sampled).toBe(false);
      expect(q.traceparent).toMatch(/-00$/);
      q.set("a", 1);
      q.end();
    }
    expect(pushed).toHaveLength(1);
    const half = spanStarter(0.5, s, () => 0.49);
    expect(half("x", "client", null).sampled).toBe(true);
    expect(spanStarter(0.5, s, () => 0.5)("x", "client", null).sampled).toBe(false);
  });

  it("continue a valid traceparent of a newer version, as the edge keeps it, instead of starting a new trace", () => {
    const { s } = sink();
    const start = spanStarter(0, s);
    const child = start("CallLocal/a/b", "server", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") as SpanRecord;
    expect(child.sampled).toBe(true);
    expect(child.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(child.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(start("x", "server", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBeInstanceOf(UnrecordedSpan);
  });

  it("start children from a span of ours or a parsed traceparent as from the traceparent itself", () => {
    const { s } = sink();
    const start = spanStarter(0, s);
    const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const server = start("CallLocal/a/b", "server", parseTraceparent(parent), "k=v") as SpanRecord;
    expect(server.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(server.parentId).toBe("00f067aa0ba902b7");
    const fromSpan = start("attempt", "client", server) as SpanRecord;
    const fromText = start("attempt", "client", server.traceparent) as SpanRecord;
    for (const child of [fromSpan, fromText]) {
      expect(child.sampled).toBe(true);
      expect(child.traceId).toBe(server.traceId);
      expect(child.parentId).toBe(server.spanId);
      expect(child.spanId).not.toBe(server.spanId);
    }
    // A carried span that is not one of these records is read by its traceparent.
    const carried = { traceparent: server.traceparent, sampled: true };
    expect((start("attempt", "client", carried) as SpanRecord).parentId).toBe(server.spanId);
    // Under a span that does not record, nothing records and its context goes on unchanged.
    const quiet = start("CallLocal/a/b", "server", parseTraceparent(parent.replace(/01$/, "00")));
    expect(quiet).toBeInstanceOf(UnrecordedSpan);
    expect(start("attempt", "client", quiet).traceparent).toBe(parent.replace(/01$/, "00"));
    expect(start("attempt", "client", quiet).sampled).toBe(false);
  });

  it("carry start, end and duration as [seconds, nanoseconds]", () => {
    const { s, pushed } = sink();
    const span = spanStarter(1, s)("resolve a", "internal", null, null, 1_700_000_000_123.5);
    span.end(1_700_000_000_125.75);
    expect(hrTime(1_700_000_000_123.5)).toEqual([1_700_000_000, 123_500_000]);
    expect(pushed[0]!.startTime).toEqual([1_700_000_000, 123_500_000]);
    expect(pushed[0]!.duration).toEqual([0, 2_250_000]);
    span.end();
    expect(pushed).toHaveLength(1);
  });
});
