// Endpoint choice Layer: resolves the target per attempt, picks one endpoint (avoiding ones that
// failed earlier in the call), and when the request provably never reached it (connection
// refused, or a peer that is not the target) evicts it and tries another. Retrying requests that
// did reach a server is the retry layer's job.

import type { Endpoint, Layer } from "./types.ts";
import type { Resolver } from "../resolvers/types.ts";
import { invokeError, REASON_HEADER, SidecarError } from "./errors.ts";

export function balance(resolver: Resolver, random: () => number = Math.random): Layer {
  return (next) => async (req, ctx) => {
    const ref = { appId: ctx.appId, namespace: ctx.namespace };
    // Bodyless requests and bodies held for replay can go to another endpoint; streams cannot.
    const resendable = req.body === null || req.body instanceof Uint8Array;
    let tried: Set<string> | null = null;
    let lastError: SidecarError | null = null;
    for (;;) {
      let eps: readonly Endpoint[];
      try {
        eps = await resolver.resolve(ref);
      } catch (e) {
        throw lastError ?? e;
      }
      const untried = tried ? eps.filter((e) => !tried!.has(e.key)) : eps;
      if (untried.length === 0) throw lastError ?? new SidecarError("internal", "no endpoints");
      // Endpoints that failed earlier in this call (a retry) are used only when nothing else is left.
      const avoid = ctx.avoid;
      const preferred = avoid && avoid.size ? untried.filter((e) => !avoid.has(e.key)) : untried;
      const pool = preferred.length ? preferred : untried;
      const ep = pool.length === 1 ? pool[0]! : pool[Math.floor(random() * pool.length)]!;
      ctx.endpoint = ep;
      try {
        const res = await next(req, ctx);
        // A peer answering for another app-id (a port reused after a restart) is a stale entry.
        if (res.status === 500 && res.headers.get(REASON_HEADER) === "wrong_target" && resendable) {
          resolver.evict(ref, ep);
          (tried ??= new Set()).add(ep.key);
          await res.body?.cancel();
          lastError = invokeError("wrong_target", ctx.appId, `the sidecar at ${ep.key} serves another app-id`);
          continue;
        }
        return res;
      } catch (e) {
        if (!(e instanceof SidecarError) || !e.neverSent) throw e;
        resolver.evict(ref, ep);
        if (!resendable) throw e;
        (tried ??= new Set()).add(ep.key);
        lastError = e;
      }
    }
  };
}
