// Overall deadline Layer: one time budget for the whole call, every retry and backoff included,
// from the target's `deadline` (meshlet extension) or the caller's own `meshlet-timeout-ms`,
// whichever ends first. Inner layers read `ctx.deadlineAt`; the dialers send what is left on.

import type { Call, CallContext, Layer, ProxyRequest } from "../core/call.ts";
import { invokeError, SidecarError } from "../core/errors.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { ChildSignal } from "../core/abort.ts";
import { type TimerEntry, timerQueue } from "./timer-queue.ts";

/**
 * The time a call may still take, in whole milliseconds: an app sends it to its sidecar to pass
 * on its own budget, and a caller's sidecar sends each peer (and a callee's app gets) what is
 * left of the call's deadline, as gRPC's `grpc-timeout` does.
 */
export const TIMEOUT_HEADER = "meshlet-timeout-ms";
const WHOLE_MS = /^[1-9][0-9]{0,8}$/;

/** The caller's budget from its `meshlet-timeout-ms`, or null; a value that is not one is a 400. */
function askedBudget(req: ProxyRequest): number | null {
  const v = req.headers.get(TIMEOUT_HEADER);
  if (v === null) return null;
  if (!WHOLE_MS.test(v.trim())) throw new SidecarError("malformed_request", `${TIMEOUT_HEADER} must be a whole number of milliseconds from 1, not "${v}"`);
  return Number(v.trim());
}

/** `ms`: the target's deadline policy, or null. The layer is never the identity: any call may carry a budget. */
export function deadlineLayer(ms: number | null, clock: Clock = systemClock): Layer {
  const policyMs = ms !== null && ms > 0 ? ms : null;
  const timers = timerQueue(clock);
  return (next) => (req, ctx) => {
    let asked: number | null;
    try {
      asked = askedBudget(req);
    } catch (e) {
      return Promise.reject(e);
    }
    if (asked === null && policyMs === null) return next(req, ctx);
    // The caller's budget wins when it ends first; it gets a timer of its own (its durations vary,
    // the policy's one shared queue would need a lane for each).
    const fromCaller = asked !== null && (policyMs === null || asked < policyMs);
    return within(next, req, ctx, fromCaller ? asked! : policyMs!, fromCaller, clock, timers);
  };
}

async function within(next: Call, req: ProxyRequest, ctx: CallContext, ms: number, fromCaller: boolean, clock: Clock, timers: ReturnType<typeof timerQueue>): Promise<Response> {
  const outer = ctx.signal;
  const child = new ChildSignal(outer);
  let expired = false;
  const fire = () => {
    expired = true;
    child.abort(new DOMException("deadline exceeded", "TimeoutError"));
  };
  const timer = fromCaller ? clock.setTimeout(fire, ms) : timers.after(ms, fire);
  // Swapped for the call and restored after, as the try-timeout layer does.
  ctx.signal = child;
  ctx.deadlineAt = clock.now() + ms;
  try {
    return await next(req, ctx);
  } catch (e) {
    if (expired) {
      const why = fromCaller ? `the caller's ${TIMEOUT_HEADER}: ${ms} ms` : `overall deadline ${ms} ms`;
      throw invokeError("deadline_exceeded", ctx.appId, `context deadline exceeded (${why})`, { cause: e });
    }
    throw e;
  } finally {
    ctx.signal = outer;
    ctx.deadlineAt = undefined;
    if (fromCaller) clock.clearTimeout(timer);
    else timers.cancel(ms, timer as TimerEntry);
  }
}

/** Stamps what is left of the call's deadline on a request about to leave (nothing without one). */
export function stampTimeLeft(req: ProxyRequest, ctx: CallContext, now: number): void {
  if (ctx.deadlineAt === undefined) return;
  req.headers.set(TIMEOUT_HEADER, String(Math.max(1, Math.ceil(ctx.deadlineAt - now))));
}
