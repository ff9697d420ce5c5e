// Overall deadline Layer (meshlet extension `deadline` on a target): one time budget for the
// whole call, every retry and backoff included. Inner layers read `ctx.deadlineAt`.

import type { Layer } from "../core/call.ts";
import { invokeError } from "../core/errors.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { ChildSignal } from "../core/abort.ts";
import { timerQueue } from "./timer-queue.ts";

export function deadlineLayer(ms: number | null, clock: Clock = systemClock): Layer {
  if (ms === null || !(ms > 0)) return (next) => next;
  const timers = timerQueue(clock);
  return (next) => async (req, ctx) => {
    const outer = ctx.signal;
    const child = new ChildSignal(outer);
    let expired = false;
    const timer = timers.after(ms, () => {
      expired = true;
      child.abort(new DOMException("deadline exceeded", "TimeoutError"));
    });
    // Swapped for the call and restored after, as the try-timeout layer does.
    ctx.signal = child;
    ctx.deadlineAt = clock.now() + ms;
    try {
      return await next(req, ctx);
    } catch (e) {
      if (expired) throw invokeError("deadline_exceeded", ctx.appId, `context deadline exceeded (overall deadline ${ms} ms)`, { cause: e });
      throw e;
    } finally {
      ctx.signal = outer;
      ctx.deadlineAt = undefined;
      timers.cancel(ms, timer);
    }
  };
}
