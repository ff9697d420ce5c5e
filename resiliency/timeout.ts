// Per-try timeout Layer: bounds the wait for response headers. Once headers arrive the timer
// stops; a streaming body may be guarded by an idle timeout instead (no byte for `ms` aborts
// it), so long downloads are never cut while data flows.

import type { Layer } from "../core/call.ts";
import { invokeError } from "../core/errors.ts";
import { responseHeaders, WireResponse } from "../core/wire-response.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { ChildSignal } from "../core/abort.ts";
import { timerQueue } from "./timer-queue.ts";

/** Bodies with a known length up to this size are not wrapped: they arrive with the headers. */
const SMALL_BODY = 64 * 1024;

function guardIdle(res: Response, ms: number, clock: Clock, abort: () => void): Response {
  if ((res instanceof WireResponse && res.payload) || !res.body) return res;
  const h = responseHeaders(res);
  const len = h.get("content-length");
  if (len !== null && Number(len) <= SMALL_BODY) return res;
  // An event stream's heartbeats and a WebSocket's pings come far apart, and a tunnel's traffic
  // may all go the other way: both are left to the listener's stream idle timeout (an hour, both
  // directions), so a policy timeout sized for answers does not cut them.
  if (res.status === 101 || h.get("content-type")?.toLowerCase().startsWith("text/event-stream")) return res;
  let last = clock.now();
  let finished = false;
  let timer: unknown;
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  const arm = (wait: number) => {
    timer = clock.setTimeout(() => {
      if (finished) return;
      const idle = clock.now() - last;
      if (idle >= ms) {
        finished = true;
        const err = new DOMException(`no body data for ${ms} ms`, "TimeoutError");
        // Error our side first: the client must see a broken body, never a clean short one.
        controller?.error(err);
        abort();
        reader.cancel(err).catch(() => {});
      } else arm(ms - idle);
    }, wait);
  };
  const stop = () => {
    finished = true;
    clock.clearTimeout(timer);
  };
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      arm(ms);
    },
    async pull(c) {
      try {
        const { done, value } = await reader.read();
        if (finished && !done) return;
        if (done) {
          if (finished) return; // timed out: already errored
          stop();
          c.close();
          return;
        }
        last = clock.now();
        c.enqueue(value);
      } catch (e) {
        stop();
        c.error(e);
      }
    },
    cancel(reason) {
      stop();
      return reader.cancel(reason);
    },
  });
  const list = res instanceof WireResponse ? res.headerList : null;
  const init = { status: res.status, statusText: res.statusText };
  return list ? new WireResponse(body, init, list) : new Response(body, { ...init, headers: res.headers });
}

/**
 * `idleBody`: also guard a streaming body with an idle timeout of `ms`. The guard moves the body
 * through JS (about 15-25 MB more RSS while 100 MB stream, against ~5 MB natively), so the
 * sidecar's built-in default (--app-timeout) bounds headers only; policy timeouts guard both.
 */
export function headersTimeout(ms: number, clock: Clock = systemClock, onTimeout: () => void = () => {}, idleBody = false): Layer {
  if (!(ms > 0) || !Number.isFinite(ms)) return (next) => next;
  // One shared queue timer per duration instead of a runtime timer per request.
  const timers = timerQueue(clock);
  return (next) => async (req, ctx) => {
    // The try runs under a child of the caller's signal: ctx.signal is swapped for the try and
    // restored after (attempts of one call never overlap), so no per-try context copy is made.
    const outer = ctx.signal;
    const child = new ChildSignal(outer);
    let timedOut = false;
    const timer = timers.after(ms, () => {
      timedOut = true;
      onTimeout();
      child.abort(new DOMException("per-try timeout", "TimeoutError"));
    });
    ctx.signal = child;
    try {
      const res = await next(req, ctx);
      if (!idleBody) return res;
      return guardIdle(res, ms, clock, () => {
        onTimeout();
        child.abort(new DOMException("idle body timeout", "TimeoutError"));
      });
    } catch (e) {
      if (timedOut) {
        throw invokeError("app_timeout", ctx.appId, `context deadline exceeded (no response headers within ${ms} ms)`, {
          cause: e,
        });
      }
      throw e;
    } finally {
      ctx.signal = outer;
      timers.cancel(ms, timer);
    }
  };
}
