// Overall deadline Layer (meshlet extension `deadline` on a target): one time budget for the
// whole call, every retry and backoff included. Inner layers read `ctx.deadlineAt`.

import type { Layer } from "../proxy/types.ts";
import { invokeError } from "../proxy/errors.ts";
import { type Clock, systemClock } from "./clock.ts";
import { childController } from "./abort.ts";
import { timerQueue } from "./timer-queue.ts";

export function deadlineLayer(ms: number | null, clock: Clock = systemClock): Layer {
  if (ms === null || !(ms > 0)) return (next) => next;
  const timers = timerQueue(clock);
  return (next) => async (req, ctx) => {
    const ac = childController(ctx.signal);
    let expired = false;
    const timer = timers.after(ms, () => {
      expired = true;
      ac.abort(new DOMException("deadline exceeded", "TimeoutError"));
    });
    const inner = { ...ctx, signal: ac.signal, deadlineAt: clock.now() + ms };
    try {
      const res = await next(req, inner);
      ctx.endpoint = inner.endpoint;
      return res;
    } catch (e) {
      ctx.endpoint = inner.endpoint;
      if (expired) throw invokeError("deadline_exceeded", ctx.appId, `context deadline exceeded (overall deadline ${ms} ms)`, { cause: e });
      throw e;
    } finally {
      timers.cancel(ms, timer);
    }
  };
}
