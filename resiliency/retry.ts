// Retry Layer: replays a failed attempt per the target's retry policy, within the retry budget
// and the call's deadline. Each attempt goes back through the breaker and endpoint choice, so it
// re-resolves and avoids the endpoint that just failed. Inert when the policy cannot retry.

import { isHandshake, type Layer } from "../core/call.ts";
import { asSidecarError, REASON_HEADER, SidecarError } from "../core/errors.ts";
import { responseHeaders } from "../core/wire-response.ts";
import type { RetryPolicy } from "./policy/types.ts";
import { type Clock, sleep } from "../core/clock.ts";
import type { RetryBudget } from "./budget.ts";
import type { ResilienceEvents } from "./events.ts";
import { newBackoff, retryAfterMs } from "./backoff.ts";
import { prepareReplay } from "./replay.ts";
import { retryReason } from "./classify.ts";

export interface RetryDeps {
  readonly target: string;
  readonly policy: RetryPolicy;
  readonly budget: RetryBudget;
  readonly events: ResilienceEvents;
  readonly clock: Clock;
  readonly random: () => number;
  readonly replayCap: number;
}

/** The attempt's outcome as the call's: its response, or its error rethrown. */
function give(res: Response | null, err: unknown): Response {
  if (res) return res;
  throw err;
}

export function retryLayer(d: RetryDeps): Layer {
  const p = d.policy;
  if (p.maxRetries === 0) return (next) => next;
  return (next) => async (req, ctx) => {
    d.budget.recordRequest();
    // Bodyless and already-buffered requests (the common case) skip the async replay step.
    const prepared =
      req.body === null || req.body instanceof Uint8Array || isHandshake(req) ? { replayable: true as const, req } : await prepareReplay(req, d.replayCap);
    const start = d.clock.now();
    let backoff: ReturnType<typeof newBackoff> | null = null; // made on the first failure only
    let retries = 0;
    for (;;) {
      let res: Response | null = null;
      let err: unknown = null;
      try {
        res = await next(prepared.req, ctx);
      } catch (e) {
        err = e;
      }
      const why = retryReason(res, err, req.method, req.headers, p);
      if (why === null) return give(res, err);
      if (!prepared.replayable) {
        d.events.notRetryable(d.target, prepared.why);
        if (res) responseHeaders(res).set("meshlet-retry", `not-retryable: ${prepared.why}`);
        return give(res, err);
      }
      if (p.maxRetries >= 0 && retries >= p.maxRetries) return give(res, err);
      backoff ??= newBackoff(p, d.random);
      let delay = backoff.next(d.clock.now() - start);
      if (delay === null) return give(res, err);
      if (res && (res.status === 429 || res.status === 503)) {
        const ra = retryAfterMs(responseHeaders(res).get("retry-after"), Date.now());
        if (ra !== null) delay = Math.max(delay, ra);
      }
      if (ctx.deadlineAt !== undefined && d.clock.now() + delay >= ctx.deadlineAt) return give(res, err);
      if (!d.budget.tryRetry()) {
        d.events.budgetExhausted(d.target);
        if (res) {
          responseHeaders(res).set(REASON_HEADER, "retry_budget_exhausted");
          return res;
        }
        const last = asSidecarError(err);
        throw new SidecarError("retry_budget_exhausted", `${last.message} (retry budget exhausted)`, { cause: err });
      }
      if (res) await res.body?.cancel().catch(() => {});
      if (ctx.endpoint) (ctx.avoid ??= new Set()).add(ctx.endpoint.key);
      retries++;
      d.events.retry(d.target, p.name, retries, why);
      await sleep(d.clock, delay, ctx.signal);
    }
  };
}
