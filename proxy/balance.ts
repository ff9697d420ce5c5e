// Endpoint choice Layer: resolves the target per attempt, picks an endpoint by power of two
// choices over outstanding x EWMA latency (avoiding ones that failed earlier in the call and
// ones ejected as outliers), and when the request provably never reached an app (connection
// refused or timed out, a peer that is not the target, a callee saying meshlet-not-delivered)
// tries another instance: a failover, not a retry. Retrying delivered requests is retry's job.

import { type CallContext, type Endpoint, isHandshake, type Layer } from "../core/call.ts";
import type { Resolver } from "../resolvers/types.ts";
import { invokeError, NOT_DELIVERED_HEADER, REASON_HEADER, SidecarError } from "../core/errors.ts";
import { EndpointLoad } from "./p2c.ts";
import { rendezvousPick } from "./rendezvous.ts";
import { type EjectionObserver, OutlierDetector } from "./outlier.ts";
import { DEFAULT_OUTLIER, type OutlierPolicy } from "../resiliency/policy/types.ts";
import { responseHeaders } from "../core/wire-response.ts";

/** Told how long each resolution took (ms), whether it found endpoints, and for which call. */
export type ResolveObserver = (appId: string, ms: number, ok: boolean, ctx: CallContext) => void;

/** A target's endpoints as the balancer last saw them, by state (`meshlet_endpoints`). */
export type EndpointStates = () => { new: number; healthy: number; failing: number; ejected: number };

export interface BalanceOptions {
  readonly random?: () => number;
  readonly now?: () => number;
  readonly observe?: ResolveObserver;
  /** Given the target's endpoint states once, to read whenever it likes. */
  readonly publish?: (states: EndpointStates) => void;
  /** Told each request moved to another instance: the endpoint it left and why. */
  readonly failover?: (endpoint: string, reason: string) => void;
  /** The target's outlier ejection (built-in defaults when absent). */
  readonly outlier?: OutlierPolicy;
  readonly onEject?: EjectionObserver;
  /** Consistent hashing: a request carrying this header goes to the instance its value hashes to. */
  readonly hashHeader?: string | null;
  /** A new instance's share ramps up over this long (ms). */
  readonly warmupMs?: number;
}

export function balance(resolver: Resolver, o: BalanceOptions = {}): Layer {
  const now = o.now ?? (() => performance.now());
  const observe = o.observe ?? (() => {});
  const failover = o.failover ?? (() => {});
  // One load table and one outlier table per target Call: built once, shared by its requests.
  const load = new EndpointLoad(now, o.random ?? Math.random, o.warmupMs ?? 0);
  const outliers = new OutlierDetector(o.outlier ?? DEFAULT_OUTLIER, now, o.onEject);
  let lastEps: readonly Endpoint[] = [];
  o.publish?.(() => ({ ...load.states(lastEps), ejected: outliers.count(lastEps) }));
  const hashHeader = o.hashHeader ?? null;
  return (next) => async (req, ctx) => {
    const ref = { appId: ctx.appId, namespace: ctx.namespace };
    const hashKey = hashHeader === null ? null : req.headers.get(hashHeader);
    // Bodyless requests and bodies held for replay can go to another endpoint; streams cannot.
    const resendable = req.body === null || req.body instanceof Uint8Array || isHandshake(req);
    let tried: Set<string> | null = null;
    let lastError: SidecarError | null = null;
    for (;;) {
      let eps: readonly Endpoint[] | null = resolver.peek?.(ref) ?? null;
      if (eps === null) {
        const t0 = now();
        try {
          eps = await resolver.resolve(ref);
          observe(ref.appId, now() - t0, true, ctx);
        } catch (e) {
          observe(ref.appId, now() - t0, false, ctx);
          throw lastError ?? e;
        }
      }
      const untried = tried ? eps.filter((e) => !tried!.has(e.key)) : eps;
      if (untried.length === 0) throw lastError ?? new SidecarError("internal", "no endpoints");
      // Endpoints that failed earlier in this call (a retry) are used only when nothing else is left.
      const avoid = ctx.avoid;
      const preferred = avoid && avoid.size ? untried.filter((e) => !avoid.has(e.key)) : untried;
      const pool = outliers.admitted(preferred.length ? preferred : untried);
      load.seen(eps);
      load.retain(eps);
      outliers.retain(eps);
      lastEps = eps;
      // A hashed request goes where its key belongs among the usable instances; when that one
      // fails or leaves, the key's next instance takes it, and only its keys move.
      const ep = hashKey === null ? load.pick(pool) : rendezvousPick(pool, hashKey);
      ctx.endpoint = ep;
      ctx.connectMs = 0;
      const startedAt = load.start(ep);
      let ok = false;
      try {
        const res = await next(req, ctx);
        ok = res.status < 500;
        if (ok || !resendable) return res;
        const h = responseHeaders(res);
        // A peer answering for another app-id (a port reused after a restart) is a stale entry.
        if (res.status === 500 && h.get(REASON_HEADER) === "wrong_target") {
          resolver.evict(ref, ep);
          (tried ??= new Set()).add(ep.key);
          await res.body?.cancel();
          lastError = invokeError("wrong_target", ctx.appId, `the sidecar at ${ep.key} serves another app-id`);
          failover(ep.key, "wrong_target");
          continue;
        }
        // The callee sidecar says its app never saw the request (refused, or known down): the
        // instance stays resolvable (its sidecar is fine) but the request goes elsewhere, if
        // there is an elsewhere; otherwise the callee's answer is the answer.
        if (h.get(NOT_DELIVERED_HEADER) !== null) {
          (tried ??= new Set()).add(ep.key);
          if (eps.some((e) => !tried!.has(e.key))) {
            failover(ep.key, h.get(REASON_HEADER) ?? `status ${res.status}`);
            await res.body?.cancel();
            continue;
          }
        }
        return res;
      } catch (e) {
        if (!(e instanceof SidecarError) || !e.neverSent) throw e;
        resolver.evict(ref, ep);
        if (!resendable) throw e;
        (tried ??= new Set()).add(ep.key);
        lastError = e;
        if (eps.some((x) => !tried!.has(x.key))) failover(ep.key, e.reason);
      } finally {
        // Opening a connection (a TLS handshake) is a one-off, not how fast the instance answers.
        load.finish(ep, startedAt + (ctx.connectMs ?? 0), ok);
        if (ok) outliers.succeeded(ep.key);
        else outliers.failed(ep.key, eps.length);
      }
    }
  };
}
