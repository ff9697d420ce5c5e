// A gRPC answer's RetryInfo: how long the server asked the client to wait, from the
// google.rpc.Status in `grpc-status-details-bin`. OTLP's specification has exporters honour it,
// and makes RESOURCE_EXHAUSTED retryable only when it is there. Decoded with protobufjs, loaded
// the first time a collector sends details.

import type { Root, Type } from "protobufjs";

const TYPE_URL = "type.googleapis.com/google.rpc.RetryInfo";

/** The four messages involved, as protobufjs's JSON descriptors (google/rpc/status.proto, error_details.proto). */
const DESCRIPTOR = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } },
            Duration: { fields: { seconds: { type: "int64", id: 1 }, nanos: { type: "int32", id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: { fields: { code: { type: "int32", id: 1 }, message: { type: "string", id: 2 }, details: { rule: "repeated", type: "google.protobuf.Any", id: 3 } } },
            RetryInfo: { fields: { retry_delay: { type: "google.protobuf.Duration", id: 1 } } },
          },
        },
      },
    },
  },
};

let types: Promise<{ status: Type; retryInfo: Type }> | null = null;

const load = () =>
  (types ??= import("protobufjs").then((m) => {
    const root: Root = (m.default ?? m).Root.fromJSON(DESCRIPTOR);
    return { status: root.lookupType("google.rpc.Status"), retryInfo: root.lookupType("google.rpc.RetryInfo") };
  }));

/**
 * The delay a RetryInfo in `details` (grpc-status-details-bin, base64 as sent, or its bytes) asks
 * for, in ms; null without one, or when the details do not decode.
 */
export async function retryInfoDelayMs(details: string | Uint8Array): Promise<number | null> {
  try {
    const { status, retryInfo } = await load();
    const bytes = typeof details === "string" ? Buffer.from(details, "base64") : details;
    const s = status.toObject(status.decode(bytes), { longs: Number }) as { details?: Array<{ type_url?: string; value?: Uint8Array }> };
    for (const d of s.details ?? []) {
      if (d.type_url !== TYPE_URL || !d.value) continue;
      const info = retryInfo.toObject(retryInfo.decode(d.value), { longs: Number }) as { retry_delay?: { seconds?: number; nanos?: number } };
      const delay = info.retry_delay;
      if (!delay) return null;
      return Math.max(0, (delay.seconds ?? 0) * 1000 + Math.round((delay.nanos ?? 0) / 1e6));
    }
    return null;
  } catch {
    return null;
  }
}
