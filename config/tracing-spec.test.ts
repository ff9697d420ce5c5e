// spec.tracing as Dapr writes it: defaults, the OTLP URL, and a clear file:line for each mistake.

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfiguration } from "./configuration.ts";

function load(tracing: string) {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tracing-")), "c.yaml");
  fs.writeFileSync(f, `kind: Configuration\nspec:\n  tracing:\n${tracing}`);
  return { f, conf: () => loadConfiguration(f).tracing };
}

describe("spec.tracing", () => {
  it("reads Dapr's fields: sampling as a string, zipkin, OTLP over HTTP with its path added", () => {
    const t = load(`    samplingRate: "0.5"\n    zipkin: {endpointAddress: "http://z:9411/api/v2/spans"}\n    otel: {endpointAddress: "collector:4318", isSecure: false, protocol: http, headers: [{name: x-key, value: s}]}\n`).conf()!;
    expect(t).toEqual({ samplingRate: 0.5, zipkinUrl: "http://z:9411/api/v2/spans", otel: { protocol: "http", url: "http://collector:4318/v1/traces", headers: { "x-key": "s" }, timeoutMs: 10_000 }, stdout: false });
    expect(load(`    stdout: true\n`).conf()!.samplingRate).toBe(0.0001);
  });

  it("reads OTLP over gRPC, Dapr's default protocol, as the collector's origin: https unless isSecure is false", () => {
    const otel = (o: string) => load(`    otel: ${o}\n`).conf()!.otel;
    expect(otel(`{endpointAddress: "otel-collector.observability:4317"}`)).toEqual({ protocol: "grpc", url: "https://otel-collector.observability:4317", headers: {}, timeoutMs: 10_000 });
    expect(otel(`{endpointAddress: "localhost:4317", isSecure: false, protocol: grpc, timeout: 2s}`)).toEqual({ protocol: "grpc", url: "http://localhost:4317", headers: {}, timeoutMs: 2_000 });
    expect(otel(`{endpointAddress: "http://[::1]:4317/", protocol: grpc}`)!.url).toBe("http://[::1]:4317");
  });

  it("refuses a non-numeric rate, an unknown exporter field, an unknown OTLP protocol and a gRPC address with a path, each with file:line", () => {
    const { f, conf } = load(`    samplingRate: "often"\n    zipkin: {endpoint: "http://z"}\n    otel: {endpointAddress: "c:4317", protocol: thrift}\n`);
    let msg = "";
    try {
      conf();
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain(`${f}:4: spec.tracing.samplingRate: "often" is not a number between 0 and 1`);
    expect(msg).toContain(`${f}:5: spec.tracing.zipkin.endpoint: unknown field`);
    expect(msg).toContain(`${f}:6: spec.tracing.otel.protocol: "thrift": expected grpc or http`);
    const path = load(`    otel: {endpointAddress: "http://c:4317/v1/traces", protocol: grpc}\n`);
    expect(path.conf).toThrow(`${path.f}:4: spec.tracing.otel.endpointAddress: "http://c:4317/v1/traces": expected host:port for OTLP over gRPC (such as "localhost:4317")`);
  });
});

describe("the Configuration file", () => {
  it("refuses an alias bomb with file:line instead of expanding it", () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bomb-")), "c.yaml");
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    fs.writeFileSync(f, `kind: Configuration\nspec:\n  nameResolution:\n    component: static\n    configuration:\n      ${levels.join("\n      ")}\n`);
    expect(() => loadConfiguration(f)).toThrow(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:1: invalid YAML: .*alias`, "i"));
  });
});
