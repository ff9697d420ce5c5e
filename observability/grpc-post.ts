// One gRPC unary call per export, over node:http2: OTLP/gRPC's TraceService/Export for a
// collector at `http://host:port` or `https://host:port`. node:http2 does the HTTP/2 framing; a
// message is gRPC's 5-byte prefix and the bytes, the verdict is grpc-status (docs/decisions.md: why
// not @grpc/grpc-js). Never rejects: it answers OpenTelemetry's result, marked retryable for the
// codes OTLP calls transient, as collector-post.ts does for HTTP, after the server's RetryInfo
// where it sends one (which also makes RESOURCE_EXHAUSTED retryable).

import type { ClientHttp2Session, IncomingHttpHeaders, IncomingHttpStatusHeader } from "node:http2";
import { RETRYABLE_STATUS, transientError, type CollectorPost, type ExportResult } from "./collector-post.ts";
import { retryInfoDelayMs } from "./grpc-retry-info.ts";

export interface GrpcOptions {
  /** Names the collector in errors ("otlp"). */
  readonly name: string;
  /** The method's path, e.g. /opentelemetry.proto.collector.trace.v1.TraceService/Export. */
  readonly path: string;
  /** Sent as gRPC metadata with every call (keys lower-cased, as gRPC requires). */
  readonly headers?: Record<string, string>;
  /** What one export may take, retries included; each call's deadline (sent as grpc-timeout too) is what is left of it. */
  readonly timeoutMs: number;
}

/** gRPC's status codes by number, for the messages. */
const CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

/** A message as gRPC frames it on the stream: not compressed, a 4-byte big-endian length, the bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out[0] = 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/** The codes OTLP's specification calls transient: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS. */
const RETRYABLE = new Set([1, 4, 10, 11, 14, 15]);

/** RESOURCE_EXHAUSTED: retryable only when the server sends RetryInfo, as OTLP's specification says. */
const RESOURCE_EXHAUSTED = 8;

/** The call's verdict from its trailers (or headers, for a trailers-only answer): null when it succeeded. */
export function grpcVerdict(name: string, status: number | undefined, h: IncomingHttpHeaders): { message: string; retryable: boolean; code?: number } | null {
  if (status !== 200) return { message: `${name} answered HTTP ${status ?? "?"}${h["content-type"] ? ` (${h["content-type"]})` : ""}, not gRPC`, retryable: RETRYABLE_STATUS.has(status ?? 0) };
  const raw = h["grpc-status"];
  if (raw === undefined) return { message: `${name} ended the call without a grpc-status`, retryable: false };
  const code = Number(raw);
  if (code === 0) return null;
  let message = String(h["grpc-message"] ?? "");
  try {
    message = decodeURIComponent(message);
  } catch {
    // kept as sent
  }
  return { message: `${name} answered ${CODES[code] ?? `gRPC status ${code}`}${message ? `: ${message}` : ""}`, retryable: RETRYABLE.has(code), code };
}

const failed = (message: string, retryable: boolean): ExportResult => ({ code: 1, error: new Error(message), retryable });

/** The result for a verdict; a failure the server sent RetryInfo with waits that long and is retryable where OTLP allows. */
async function judged(v: ReturnType<typeof grpcVerdict>, h: IncomingHttpHeaders): Promise<ExportResult> {
  if (v === null) return { code: 0 };
  const r = failed(v.message, v.retryable);
  const details = h["grpc-status-details-bin"];
  if (typeof details === "string" && (v.retryable || v.code === RESOURCE_EXHAUSTED)) {
    const ms = await retryInfoDelayMs(details);
    if (ms !== null) {
      r.retryable = true;
      r.retryAfterMs = ms;
    }
  }
  return r;
}

/** HTTP/2's RST_STREAM code for a stream the client gave up on (http2.constants.NGHTTP2_CANCEL). */
const CANCEL = 8;


export function grpcPost(origin: string, o: GrpcOptions): CollectorPost {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) metadata[k.toLowerCase()] = v;
  // node:http2 is imported on first use: a sidecar that exports no OTLP/gRPC does not carry it.
  let http2: Promise<typeof import("node:http2")> | null = null;
  let session: ClientHttp2Session | null = null;
  let closed = false;

  /** The open session, or a new one (after the collector went away, a GOAWAY or an error). */
  const connect = async (): Promise<ClientHttp2Session> => {
    if (session && !session.closed && !session.destroyed) return session;
    const lib = await (http2 ??= import("node:http2"));
    const s = lib.connect(origin);
    const forget = () => {
      if (session === s) session = null;
    };
    s.on("error", forget);
    s.on("goaway", forget);
    s.on("close", forget);
    // Between exports an idle session must not keep the process up.
    s.unref();
    session = s;
    return s;
  };

  const post = async (body: string | Uint8Array, timeoutMs: number): Promise<ExportResult> => {
    if (closed) return failed(`${o.name} client is closed`, false);
    let s: ClientHttp2Session;
    try {
      s = await connect();
    } catch (e) {
      return failed((e as Error).message, transientError(e));
    }
    return new Promise<ExportResult>((resolve) => {
      let settled = false;
      const done = (r: ExportResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = s.request({
        ":method": "POST",
        ":path": o.path,
        "content-type": "application/grpc",
        te: "trailers",
        // gRPC allows at most 8 digits.
        "grpc-timeout": `${Math.min(99_999_999, Math.max(1, Math.ceil(timeoutMs)))}m`,
        ...metadata,
      });
      const timer = setTimeout(() => {
        req.close(CANCEL);
        done(failed(`no answer from ${o.name} in ${Math.round(timeoutMs)} ms`, true));
      }, timeoutMs);
      let status: number | undefined;
      let head: IncomingHttpHeaders = {};
      req.on("response", (h: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
        status = h[":status"];
        head = h;
      });
      // Judged from the trailers when they come, else (a trailers-only answer) from the headers at the end.
      let trailered = false;
      req.on("trailers", (t: IncomingHttpHeaders) => {
        trailered = true;
        const h = { ...head, ...t };
        void judged(grpcVerdict(o.name, status, h), h).then(done);
      });
      // The answer's message (ExportTraceServiceResponse) is read and dropped.
      req.resume();
      req.on("end", () => {
        if (!trailered) void judged(grpcVerdict(o.name, status, head), head).then(done);
      });
      req.on("error", (e: Error) => done(failed(e.message, transientError(e))));
      req.end(grpcFrame(typeof body === "string" ? Buffer.from(body) : body));
    });
  };

  return Object.assign(post, {
    collector: o.name,
    timeoutMs: o.timeoutMs,
    close: async () => {
      closed = true;
      const s = session;
      session = null;
      if (s && !s.closed) await new Promise<void>((r) => s.close(() => r()));
    },
  });
}
