// Hedged reads (meshlet extension `hedge` on a target): a GET, HEAD or OPTIONS still waiting for
// headers after the delay gets another attempt, on another instance when there is one; the first
// answer under 500 wins and the others are cancelled. Each hedge is paid from the retry budget.

import type { Call, CallContext, Layer, ProxyRequest } from "../core/call.ts";
import { ChildSignal } from "../core/abort.ts";
import type { Clock } from "../core/clock.ts";
import type { HedgePolicy } from "./policy/types.ts";
import type { RetryBudget } from "./budget.ts";
import type { ResilienceEvents } from "./events.ts";
import { LatencyWindow } from "./latency-window.ts";

/** Reads only: a hedged write could be applied twice. */
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request with this verb may be hedged (explain says it with the same rule). */
export function hedgeable(verb: string): boolean {
  return READS.has(verb);
}

export interface HedgeDeps {
  readonly target: string;
  readonly policy: HedgePolicy;
  readonly budget: RetryBudget;
  readonly events: ResilienceEvents;
  readonly clock: Clock;
  /** True when no retry layer counts this target's requests for the budget: the hedge step does. */
  readonly countRequests: boolean;
}

export function hedgeLayer(d: HedgeDeps): Layer {
  const p = d.policy;
  const window = p.percentile !== null ? new LatencyWindow(p.percentile) : null;
  return (next) => (req, ctx) => {
    if (!hedgeable(req.method) || !(req.body === null || req.body instanceof Uint8Array)) return next(req, ctx);
    if (d.countRequests) d.budget.recordRequest();
    const delay = p.delayMs ?? window!.quantile();
    if (delay !== null) return race(next, req, ctx, delay, d, window);
    // Too few samples for a percentile yet: the call runs alone and adds one.
    const t0 = d.clock.now();
    return next(req, ctx).then((res) => {
      window!.add(d.clock.now() - t0);
      return res;
    });
  };
}

interface Try {
  readonly ctx: CallContext;
  readonly signal: ChildSignal;
  readonly startedAt: number;
  res: Response | null;
  err: unknown;
  done: boolean;
}

/** Attempts made so far in the call, as the attempt spans count them, hedges included. */
function attemptsSoFar(ctx: CallContext, tries: readonly Try[]): number {
  let n = ctx.attempt ?? 0;
  for (const t of tries) n = Math.max(n, t.ctx.attempt ?? 0);
  return n;
}

/** The fields an attempt fills in, brought back to the call's own context from the try that decided it. */
function adopt(ctx: CallContext, from: CallContext, tries: readonly Try[]): void {
  ctx.endpoint = from.endpoint;
  ctx.lastOutcome = from.lastOutcome;
  ctx.breakerState = from.breakerState;
  ctx.connectMs = from.connectMs;
  ctx.attempt = attemptsSoFar(ctx, tries);
}

function race(next: Call, req: ProxyRequest, ctx: CallContext, delay: number, d: HedgeDeps, window: LatencyWindow | null): Promise<Response> {
  const outer = ctx.signal;
  const tries: Try[] = [];
  let settled = false;
  let timer: unknown = null;
  return new Promise<Response>((resolve, reject) => {
    const settle = (winner: Try) => {
      settled = true;
      if (timer !== null) d.clock.clearTimeout(timer);
      for (const t of tries) if (t !== winner && !t.done) t.signal.abort(new DOMException("another attempt answered first (hedged read)", "AbortError"));
      adopt(ctx, winner.ctx, tries);
      if (winner.res) resolve(winner.res);
      else reject(winner.err);
    };
    const finished = (t: Try) => {
      t.done = true;
      if (t.res && window) window.add(d.clock.now() - t.startedAt);
      if (settled) {
        // Answered after another attempt won: nobody reads this body.
        t.res?.body?.cancel().catch(() => {});
        return;
      }
      if (t.res && t.res.status < 500) {
        if (t !== tries[0]) d.events.hedge(d.target, "won");
        return settle(t);
      }
      if (tries.some((x) => !x.done)) return;
      // Every attempt failed: the call ends as the first one did, as if it had not been hedged.
      for (const x of tries) if (x !== tries[0]) x.res?.body?.cancel().catch(() => {});
      settle(tries[0]!);
    };
    const launch = (c: CallContext, signal: ChildSignal) => {
      const t: Try = { ctx: c, signal, startedAt: d.clock.now(), res: null, err: null, done: false };
      tries.push(t);
      next(req, c).then(
        (res) => {
          t.res = res;
          finished(t);
        },
        (err: unknown) => {
          t.err = err;
          finished(t);
        },
      );
    };
    const hedge = () => {
      timer = null;
      if (settled || outer.aborted) return;
      if (!d.budget.tryRetry()) return d.events.hedge(d.target, "budget");
      // Another instance than those still answering, when the endpoint step has one.
      const avoid = new Set(ctx.avoid);
      for (const t of tries) if (t.ctx.endpoint) avoid.add(t.ctx.endpoint.key);
      const attempt = attemptsSoFar(ctx, tries);
      const signal = new ChildSignal(outer);
      d.events.hedge(d.target, "sent");
      launch({ ...ctx, signal, avoid, attempt, endpoint: undefined, lastOutcome: `hedged after ${Math.round(delay)} ms without headers` }, signal);
      if (tries.length <= d.policy.maxHedges) timer = d.clock.setTimeout(hedge, delay);
    };
    const first = new ChildSignal(outer);
    timer = d.clock.setTimeout(hedge, delay);
    launch({ ...ctx, signal: first }, first);
  });
}
