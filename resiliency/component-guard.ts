// Dapr's resiliency for a sidecar's calls to a component (a state store): retry( breaker( timeout(
// op ) ) ) with the same policy data, backoff, breaker state machine and events as app calls, for
// operations that are plain async functions rather than HTTP requests.

import type { CallSignal } from "../core/call.ts";
import { type Clock, sleep } from "../core/clock.ts";
import { newBackoff } from "./backoff.ts";
import type { BreakerRegistry } from "./breaker-layer.ts";
import type { ResilienceEvents } from "./events.ts";
import type { ComponentPolicy } from "./policy/resolve-component.ts";

/** Runs one component operation under the component's policy; `signal` (the client going away) stops retries. */
export type Guard = <T>(op: () => Promise<T>, signal?: CallSignal) => Promise<T>;

/** No policy: the operation as it is. */
export const UNGUARDED: Guard = (op) => op();

export interface GuardDeps {
  readonly events: ResilienceEvents;
  readonly breakers: BreakerRegistry;
  readonly clock: Clock;
  readonly random: () => number;
  /**
   * The store's answer, not its failure (an ETag mismatch, a malformed ETag): it is neither
   * retried nor counted against the breaker.
   */
  readonly isAnswer: (e: unknown) => boolean;
}

/** A failure the policy produced itself: never retried. */
export class ComponentPolicyError extends Error {}

/** The policy's timeout fired before the operation answered. */
class ComponentTimeout extends Error {}

function withTimeout<T>(op: () => Promise<T>, ms: number, clock: Clock, onFire: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = clock.setTimeout(() => {
      onFire();
      // The operation cannot be cancelled (a Redis command in flight): its late answer is dropped.
      reject(new ComponentTimeout(`timed out after ${ms} ms`));
    }, ms);
    op().then(
      (v) => {
        clock.clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(t);
        reject(e);
      },
    );
  });
}

export function componentGuard(p: ComponentPolicy, d: GuardDeps): Guard {
  if (!p.timeout && !p.retry && !p.breaker) return UNGUARDED;
  const target = p.component;
  const timeout = p.timeout?.value;
  const breakerPolicy = p.breaker?.value;
  const retry = p.retry?.value;

  const attempt = async <T>(op: () => Promise<T>): Promise<T> => {
    const breaker = breakerPolicy ? d.breakers.get(target, target, breakerPolicy, 1, d.events) : null;
    const admission = breaker?.admit();
    if (admission && !admission.ok) throw new ComponentPolicyError(admission.why === "open" ? "circuit breaker is open" : "too many requests");
    try {
      const v = await (timeout ? withTimeout(op, timeout.ms, d.clock, () => d.events.timeout(target, timeout.name, timeout.ms)) : op());
      if (admission?.ok) breaker!.record(admission.generation, true);
      return v;
    } catch (e) {
      if (admission?.ok) breaker!.record(admission.generation, d.isAnswer(e));
      throw e;
    }
  };
  if (!retry || retry.maxRetries === 0) return attempt;

  return async <T>(op: () => Promise<T>, signal?: CallSignal): Promise<T> => {
    const start = d.clock.now();
    let backoff: ReturnType<typeof newBackoff> | null = null;
    for (let retries = 0; ; retries++) {
      try {
        return await attempt(op);
      } catch (e) {
        if (e instanceof ComponentPolicyError || d.isAnswer(e) || signal?.aborted) throw e;
        if (retry.maxRetries >= 0 && retries >= retry.maxRetries) throw e;
        backoff ??= newBackoff(retry, d.random);
        const delay = backoff.next(d.clock.now() - start);
        if (delay === null) throw e;
        d.events.retry(target, retry.name, retries + 1, e instanceof ComponentTimeout ? "timeout" : "component_error");
        await sleep(d.clock, delay, signal);
      }
    }
  };
}
