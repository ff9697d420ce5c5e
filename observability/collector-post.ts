// POSTs an export body to a trace collector: through the sidecar's own pooled dialer for http://
// (Bun's node:http client cost ~18k instructions a span, docs/decisions.md), through node:http(s)
// for https:// and where no dialer is given. Never rejects: it answers OpenTelemetry's result,
// marked retryable when the failure is transient (refused, reset or timed out, or 429/502/503/504),
// and an export retries those a few times with backoff, or after the collector's Retry-After, as
// OTLP's specification asks of exporters, all within the export's one timeout.

import { sleep, systemClock, type Clock } from "../core/clock.ts";
import type { Dialer } from "../runtime/dial.ts";
import { HeaderList } from "../core/header-list.ts";
import { retryAfterMs } from "../resiliency/backoff.ts";
import type { SpanExport } from "./span-batcher.ts";
import type { SpanRecord } from "./span-records.ts";

/**
 * OpenTelemetry's export result; `retryable` when sending the same body again may succeed, and
 * `retryAfterMs` when the collector said how long to wait first (Retry-After on a 429 or 503).
 */
export type ExportResult = { code: number; error?: Error; retryable?: boolean; retryAfterMs?: number };

/** The HTTP answers OTLP/HTTP's specification calls transient (a proxy's answers while a collector is briefly away). */
export const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

export interface CollectorPost {
  /** One try, given up after `timeoutMs` (what is left of the export's timeout). */
  (body: string | Uint8Array, timeoutMs: number): Promise<ExportResult>;
  /** The collector's name from CollectorOptions ("zipkin", "otlp"). */
  readonly collector: string;
  /** CollectorOptions.timeoutMs: what one export may take, retries included. */
  readonly timeoutMs: number;
  close(): Promise<void>;
}

export interface CollectorOptions {
  /** Names the collector in errors ("zipkin", "otlp"). */
  readonly name: string;
  readonly contentType: string;
  readonly headers?: Record<string, string>;
  /**
   * What one export may take, every try and wait included (OTEL_EXPORTER_OTLP_TIMEOUT's meaning,
   * and OpenTelemetry JS's): a hung collector holds its exporter for this long at most.
   */
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
  return dialer && target.protocol === "http:" ? dialerPost(target, o, dialer) : nodeHttpPost(target, o);
}

/** The answer's verdict: a 4xx or 5xx fails, retryable when transient, after Retry-After where a 429 or 503 gives one. */
function answered(name: string, status: number, retryAfter: string | null | undefined): ExportResult {
  if (status < 400) return { code: 0 };
  const r: ExportResult = { code: 1, error: new Error(`Got unexpected status code from ${name}: ${status}`), retryable: RETRYABLE_STATUS.has(status) };
  const after = status === 429 || status === 503 ? retryAfterMs(retryAfter ?? null, Date.now()) : null;
  if (after !== null) r.retryAfterMs = after;
  return r;
}

/** Through a runtime dialer: pooled keep-alive connections, the body as bytes in one write. */
function dialerPost(target: URL, o: CollectorOptions, dialer: Dialer): CollectorPost {
  const ep = { host: target.hostname.replace(/^\[|\]$/g, ""), port: Number(target.port || 80), key: target.host };
  const fixed: Array<[string, string]> = [["host", target.host], ["content-type", o.contentType], ...Object.entries(o.headers ?? {})];
  const post = async (body: string | Uint8Array, timeoutMs: number): Promise<ExportResult> => {
    const req = { method: "POST", path: target.pathname, query: target.search, headers: HeaderList.of(fixed), body: typeof body === "string" ? Buffer.from(body) : body };
    try {
      const res = await dialer.dial(ep, req, { appId: o.name, namespace: "", signal: AbortSignal.timeout(timeoutMs), connectMs: 0 });
      await res.arrayBuffer();
      return answered(o.name, res.status, res.headers.get("retry-after"));
    } catch (e) {
      return failed(e);
    }
  };
  return Object.assign(post, { collector: o.name, timeoutMs: o.timeoutMs, close: () => dialer.close() });
}

/** Through node:http(s) with a keep-alive agent. */
function nodeHttpPost(target: URL, o: CollectorOptions): CollectorPost {
  // Imported only by an exporter that sends this way (https://, or no dialer): an http://
  // collector goes through the dialer, and node:http(s) is memory such a sidecar need not carry.
  const client = (target.protocol === "https:" ? import("node:https") : import("node:http")).then((lib) => ({ lib, agent: new lib.Agent({ keepAlive: true, maxSockets: 2 }) }));
  const post = async (body: string | Uint8Array, timeoutMs: number) => {
    const { lib, agent } = await client;
    return new Promise<ExportResult>((resolve) => {
      const headers = { ...o.headers, "content-type": o.contentType, "content-length": typeof body === "string" ? Buffer.byteLength(body) : body.byteLength };
      // One timer for the whole try, answer included: node:http's own `timeout` is a socket-idle
      // one, which a collector that drips its answer a byte at a time never lets fire.
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer from ${o.name} in ${Math.round(timeoutMs)} ms`), { code: "ETIMEDOUT" })), timeoutMs);
      const settle = (r: ExportResult) => {
        clearTimeout(timer);
        resolve(r);
      };
      const req = lib.request(target, { method: "POST", agent, headers }, (res) => {
        res.resume();
        let ended = false;
        res.once("end", () => {
          ended = true;
          settle(answered(o.name, res.statusCode!, res.headers["retry-after"]));
        });
        res.once("error", (error) => settle(failed(error)));
        // Destroyed mid-answer (the timer above): not every runtime errors the response then.
        res.once("close", () => {
          if (!ended) settle(failed(Object.assign(new Error(`${o.name} broke off its answer`), { code: "ECONNRESET" })));
        });
      });
      req.once("error", (error) => settle(failed(error)));
      req.end(body);
    });
  };
  return Object.assign(post, { collector: o.name, timeoutMs: o.timeoutMs, close: async () => (await client).agent.destroy() });
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
 * sent again after each of `retry.backoffMs`, or after the collector's Retry-After, while the
 * export's timeout (`post.timeoutMs`, from its first try) has room for the wait; each try gets
 * what is left of it. The last answer is the batch's. Shutting down stops retrying, waits for
 * the POSTs in flight, then closes the client; later exports fail.
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
    const deadline = retry.clock.now() + post.timeoutMs;
    let r = await post(b, post.timeoutMs);
    let tries = 1;
    let late = "";
    for (const backoff of retry.backoffMs) {
      if (r.code === 0 || !r.retryable || shut) break;
      const wait = r.retryAfterMs ?? backoff * (0.8 + 0.4 * retry.random());
      const left = deadline - retry.clock.now() - wait;
      if (left <= 0) {
        const why = r.retryAfterMs !== undefined ? `the collector asked to wait ${r.retryAfterMs} ms, past` : "the next would end past";
        late = `; ${why} the export's ${post.timeoutMs} ms timeout`;
        break;
      }
      await sleep(retry.clock, wait);
      if (shut) break;
      r = await post(b, left);
      tries++;
    }
    if (r.code === 0 || (tries === 1 && !late)) return r;
    return { ...r, error: new Error(`${r.error?.message ?? "failed"} (${tries === 1 ? "1 try" : `${tries} tries`}${late})`) };
  };
  return {
    prepare,
    timeoutMs: post.timeoutMs,
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
