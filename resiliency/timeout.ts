// Per-try timeout Layer: bounds the wait for response headers. Once headers arrive the timer
// stops, so a long streaming body is never cut while data flows (idle guards come separately).

import type { Layer } from "../proxy/types.ts";
import { invokeError } from "../proxy/errors.ts";
import { type Clock, systemClock } from "./clock.ts";

export function headersTimeout(ms: number, clock: Clock = systemClock): Layer {
  if (!(ms > 0) || !Number.isFinite(ms)) return (next) => next;
  return (next) => async (req, ctx) => {
    const ac = new AbortController();
    let timedOut = false;
    const onAbort = () => ac.abort(ctx.signal.reason);
    if (ctx.signal.aborted) ac.abort(ctx.signal.reason);
    else ctx.signal.addEventListener("abort", onAbort, { once: true });
    const timer = clock.setTimeout(() => {
      timedOut = true;
      ac.abort(new DOMException("per-try timeout", "TimeoutError"));
    }, ms);
    const inner = { ...ctx, signal: ac.signal };
    try {
      const res = await next(req, inner);
      ctx.endpoint = inner.endpoint;
      return res;
    } catch (e) {
      ctx.endpoint = inner.endpoint;
      if (timedOut) {
        throw invokeError("app_timeout", ctx.appId, `context deadline exceeded (no response headers within ${ms} ms)`, {
          cause: e,
        });
      }
      throw e;
    } finally {
      clock.clearTimeout(timer);
    }
  };
}
