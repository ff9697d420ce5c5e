// POSTs an export body to a trace collector: through the sidecar's own pooled dialer for http://
// (Bun's node:http client cost ~18k instructions a span, docs/decisions.md), through node:http(s)
// for https:// and where no dialer is given. Never rejects: it answers OpenTelemetry's result,
// marked retryable when the failure is transient (refused, reset or timed out, or 429/502/503/504),
// and an export retries those a few times with backoff, as OTLP's specification asks of exporters.

import { sleep, systemClock, type Clock } from "../core/clock.ts";
import type { Dialer } from "../runtime/dial.ts";
import { HeaderList } from "../core/header-list.ts";
import type { SpanExport } from "./span-batcher.ts";
import type { SpanRecord } from "./span-records.ts";

/** OpenTelemetry's export result; `retryable` when sending the same body again may succeed. */
export type ExportResult = { code: number; error?: Error; retryable?: boolean };

/** The HTTP answers OTLP/HTTP's specification calls transient (a proxy's answers while a collector is briefly away). */
export const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

export interface CollectorPost {
  (body: string | Uint8Array): Promise<ExportResult>;
  /** The collector's name from CollectorOptions ("zipkin", "otlp"). */
  readonly collector: string;
  close(): Promise<void>;
}

export interface CollectorOptions {
  /** Names the collector in errors ("zipkin", "otlp"). */
  readonly name: string;
  readonly contentType: string;
  readonly headers?: Record<string, string>;
  /** An answer slower than this fails the try (a timeout is retried; the spans are lost when the last try fails). */
  readonly timeoutMs: number;
}

/** Network failures that a collector's restart or a brief outage causes; a bad certificate is not one. */
const TRANSIENT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED", "UND_ERR_SOCKET", "ERR_HTTP2_GOAWAY_SESSION"]);

/** Whether a failure to get any answer is worth another try: judged by its cause where it has one, then by its code or a timeout. */
export function transientError(e: unknown): boolean {
  const err = e as { code?: unknown; name?: unknown; cause?: unknown } | null | undefined;
  if (!err || typeof err !== "object") return false;
  if (err.cause) return transientError(err.cause);
  if (err.name === "TimeoutError") return true;
  return typeof err.code === "string" && TRANSIENT_CODES.has(err.code);
}

/** No answer: retryable when the cause is transient (refused, reset, timed out). */
const failed = (e: unknown): ExportResult => ({ code: 1, error: e instanceof Error ? e : new Error(String(e)), retryable: transientError(e) });

export function collectorPost(url: string, o: CollectorOptions, dialer: Dialer | null): CollectorPost {
  const target = new URL(url);
  const answered = (status: number): ExportResult =>
    status < 400 ? { code: 0 } : { code: 1, error: new Error(`Got unexpected status code from ${o.name}: ${status}`), retryable: RETRYABLE_STATUS.has(status) };
  return dialer && target.protocol === "http:" ? dialerPost(target, o, dialer, answered) : nodeHttpPost(target, o, answered);
}

/** Through a runtime dialer: pooled keep-alive connections, the body as bytes in one write. */
function dialerPost(target: URL, o: CollectorOptions, dialer: Dialer, answered: (status: number) => ExportResult): CollectorPost {
  const ep = { host: target.hostname.replace(/^\[|\]$/g, ""), port: Number(target.port || 80), key: target.host };
  const fixed: Array<[string, string]> = [["host", target.host], ["content-type", o.contentType], ...Object.entries(o.headers ?? {})];
  const post = async (body: string | Uint8Array): Promise<ExportResult> => {
    const req = { method: "POST", path: target.pathname, query: target.search, headers: HeaderList.of(fixed), body: typeof body === "string" ? Buffer.from(body) : body };
    try {
      const res = await dialer.dial(ep, req, { appId: o.name, namespace: "", signal: AbortSignal.timeout(o.timeoutMs), connectMs: 0 });
      await res.arrayBuffer();
      return answered(res.status);
    } catch (e) {
      return failed(e);
    }
  };
  return Object.assign(post, { collector: o.name, close: () => dialer.close() });
}

/** Through node:http(s) with a keep-alive agent. */
function nodeHttpPost(target: URL, o: CollectorOptions, answered: (status: number) => ExportResult): CollectorPost {
  // Imported only by an exporter that sends this way (https://, or no dialer): an http://
  // collector goes through the dialer, and node:http(s) is memory such a sidecar need not carry.
  const client = (target.protocol === "https:" ? import("node:https") : import("node:http")).then((lib) => ({ lib, agent: new lib.Agent({ keepAlive: true, maxSockets: 2 }) }));
  const post = async (body: string | Uint8Array) => {
    const { lib, agent } = await client;
    return new Promise<ExportResult>((resolve) => {
      const headers = { ...o.headers, "content-type": o.contentType, "content-length": typeof body === "string" ? Buffer.byteLength(body) : body.byteLength };
      const req = lib.request(target, { method: "POST", agent, headers, timeout: o.timeoutMs }, (res) => {
        res.resume();
        res.once("end", () => resolve(answered(res.statusCode!)));
        res.once("error", (error) => resolve(failed(error)));
      });
      req.once("timeout", () => req.destroy(new Error(`no answer from ${o.name} in ${o.timeoutMs} ms`)));
      req.once("error", (error) => resolve(failed(error)));
      req.end(body);
    });
  };
  return Object.assign(post, { collector: o.name, close: async () => (await client).agent.destroy() });
}

/** How an export retries a transient failure: the waits before each new try (each varied by +-20 %). */
export interface RetryOptions {
  readonly clock: Clock;
  readonly random: () => number;
  readonly backoffMs: readonly number[];
}

/** Three more tries over ~1.75 s: a collector's restart, not an outage (the queue keeps filling meanwhile). */
export const EXPORT_RETRY: RetryOptions = { clock: systemClock, random: Math.random, backoffMs: [250, 500, 1_000] };

/**
 * An exporter over a collector POST: `prepare` is what the queue keeps per span, `body` turns a
 * batch into the request body (null: nothing to send, the batch fails). A transient failure is
 * sent again after each of `retry.backoffMs`; the last answer is the batch's. Shutting down stops
 * retrying, waits for the POSTs in flight, then closes the client; later exports fail.
 */
export function collectorExport<T>(
  post: CollectorPost,
  prepare: (span: SpanRecord) => T,
  body: (items: readonly T[]) => string | Uint8Array | null,
  retry: RetryOptions = EXPORT_RETRY,
): SpanExport<T> {
  const sending = new Set<Promise<void>>();
  let shut = false;
  const send = async (b: string | Uint8Array): Promise<ExportResult> => {
    let r = await post(b);
    let tries = 1;
    for (const wait of retry.backoffMs) {
      if (r.code === 0 || !r.retryable || shut) break;
      await sleep(retry.clock, wait * (0.8 + 0.4 * retry.random()));
      if (shut) break;
      r = await post(b);
      tries++;
    }
    return r.code !== 0 && tries > 1 ? { ...r, error: new Error(`${r.error?.message ?? "failed"} (${tries} tries)`) } : r;
  };
  return {
    prepare,
    export(items, done) {
      if (shut) return done({ code: 1, error: new Error("exporter has been shut down") });
      const b = body(items);
      if (b === null) return done({ code: 1, error: new Error(`${post.collector} export produced no body`) });
      const p = send(b).then(done);
      sending.add(p);
      void p.finally(() => sending.delete(p));
    },
    async shutdown() {
      shut = true;
      await Promise.all(sending);
      await post.close();
    },
  };
}
