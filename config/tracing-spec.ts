// Configuration `spec.tracing` as meshlet reads it (Dapr's fields), validated with file:line:
// samplingRate is a string ("0" off, "1" everything, parent-based), exporters zipkin and otel
// (OTLP over gRPC, Dapr's default, or HTTP), stdout. Kept apart from the exporters, which load
// only when one is set.

import { isSeq, type Node } from "yaml";
import type { Reader } from "./yaml-reader.ts";

export interface TracingSpec {
  readonly samplingRate: number;
  readonly zipkinUrl: string | null;
  readonly otel: OtlpSpec | null;
  readonly stdout: boolean;
}

/**
 * Where and how OTLP goes. `url` for http is the full /v1/traces URL; for grpc it is the
 * collector's origin (`http://host:4317`, or https when secure), the service path being fixed.
 */
export interface OtlpSpec {
  readonly protocol: "grpc" | "http";
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
}

/** Dapr's default: one trace in ten thousand. */
export const DEFAULT_SAMPLING = 0.0001;

export function parseTracing(r: Reader, node: Node | null): TracingSpec | null {
  if (node === null) return null;
  const v: Record<string, Node | null> = {};
  for (const [k, val] of r.entries(node, "spec.tracing", ["samplingRate", "stdout", "zipkin", "otel"])) v[k] = val;
  let samplingRate = DEFAULT_SAMPLING;
  if (v.samplingRate !== undefined) {
    const s = r.str(v.samplingRate, "spec.tracing.samplingRate");
    if (s !== undefined && s.trim() !== "") {
      const n = Number(s);
      if (!Number.isFinite(n) || n < 0 || n > 1) r.fail(v.samplingRate, "spec.tracing.samplingRate", `"${s}" is not a number between 0 and 1 (write it as a string: "1", "0.01")`);
      else samplingRate = n;
    }
  }
  const stdout = v.stdout !== undefined ? (r.bool(v.stdout, "spec.tracing.stdout") ?? false) : false;
  let zipkinUrl: string | null = null;
  if (v.zipkin !== undefined) {
    for (const [k, val] of r.entries(v.zipkin, "spec.tracing.zipkin", ["endpointAddress"])) if (k === "endpointAddress") zipkinUrl = r.str(val, "spec.tracing.zipkin.endpointAddress") ?? null;
    if (zipkinUrl !== null && !/^https?:\/\//.test(zipkinUrl)) r.fail(v.zipkin, "spec.tracing.zipkin.endpointAddress", `"${zipkinUrl}" is not an http(s) URL`);
  }
  let otel: TracingSpec["otel"] = null;
  if (v.otel !== undefined) {
    const o: Record<string, Node | null> = {};
    for (const [k, val] of r.entries(v.otel, "spec.tracing.otel", ["endpointAddress", "isSecure", "protocol", "headers", "timeout"])) o[k] = val;
    const address = o.endpointAddress !== undefined ? r.str(o.endpointAddress, "spec.tracing.otel.endpointAddress") : undefined;
    if (address === undefined) r.fail(v.otel, "spec.tracing.otel.endpointAddress", "is required");
    const secure = o.isSecure !== undefined ? (r.bool(o.isSecure, "spec.tracing.otel.isSecure") ?? true) : true;
    // Dapr's default is gRPC (its exporter picks HTTP only for `protocol: http`).
    const protocol = o.protocol !== undefined ? r.str(o.protocol, "spec.tracing.otel.protocol") : "grpc";
    if (protocol !== undefined && protocol !== "http" && protocol !== "grpc") r.fail(o.protocol ?? v.otel, "spec.tracing.otel.protocol", `"${protocol}": expected grpc or http`);
    // A list of {name, value} (Dapr's), sent with every export.
    const headers: Record<string, string> = {};
    if (o.headers) {
      if (!isSeq(o.headers)) r.fail(o.headers, "spec.tracing.otel.headers", "expected a list of {name, value}");
      else
        o.headers.items.forEach((item, i) => {
          const h: Record<string, string> = {};
          for (const [k, val] of r.entries(item as Node, `spec.tracing.otel.headers[${i}]`, ["name", "value"])) h[k] = r.str(val, `spec.tracing.otel.headers[${i}].${k}`) ?? "";
          if (h.name) headers[h.name] = h.value ?? "";
        });
    }
    const timeoutMs = o.timeout !== undefined ? (r.duration(o.timeout, "spec.tracing.otel.timeout", false) ?? 10_000) : 10_000;
    if (address !== undefined && (protocol === "http" || protocol === "grpc")) {
      const base = /^https?:\/\//.test(address) ? address : `${secure ? "https" : "http"}://${address}`;
      if (protocol === "grpc") {
        let origin: string | null = null;
        try {
          const u = new URL(base);
          origin = u.pathname === "/" && !u.search ? u.origin : null;
        } catch {
          // reported below
        }
        if (origin === null) r.fail(o.endpointAddress ?? v.otel, "spec.tracing.otel.endpointAddress", `"${address}": expected host:port for OTLP over gRPC (such as "localhost:4317")`);
        else otel = { protocol, url: origin, headers, timeoutMs };
      } else {
        const url = /\/v1\/traces\/?$/.test(base) ? base : `${base.replace(/\/$/, "")}/v1/traces`;
        otel = { protocol, url, headers, timeoutMs };
      }
    }
  }
  return { samplingRate, zipkinUrl, otel, stdout };
}
