// One sidecar instance: its listeners (Dapr HTTP API, sidecar-to-sidecar, metrics), the
// per-target Calls built once on first use from the policy in force, hot reload that swaps that
// policy in one step, and shutdown; readiness and registration are presence.ts's. It does not parse flags or YAML
// (cli/, config/) and knows no runtime (given a Runtime).

import os from "node:os";
import type { Call } from "../core/call.ts";
import { DEFAULT_MAX_HEADER_BYTES, type Listener, PortInUseError, type Runtime } from "../runtime/listen.ts";
import type { SidecarConfig } from "./config.ts";
import { type Logger, throttledInfo } from "../core/log.ts";
import type { Resolver } from "../resolvers/types.ts";
import type { Dialer } from "../runtime/dial.ts";
import type { SidecarState } from "./api.ts";
import { edgeHandler, explainText, inboundAppCall, inboundHandler, outboundCall, selfCall, type StackDeps, type TargetPlan } from "./stack.ts";
import { type InternalTransport, plainTransport } from "../transport/transport.ts";
import { Metrics } from "../core/metrics.ts";
import { EndpointTables, registerLiveGauges } from "../observability/live-gauges.ts";
import { Presence } from "./presence.ts";
import { DEFAULT_METRICS, HttpMetrics } from "../observability/http-metrics.ts";
import { BoundedMap } from "../core/bounded-map.ts";
import { systemClock } from "../core/clock.ts";
import { resilienceEvents } from "../resiliency/events.ts";
import { BreakerRegistry } from "../resiliency/breaker-layer.ts";
import { DEFAULT_BUDGET, RetryBudget } from "../resiliency/budget.ts";
import { DEFAULT_REPLAY_CAP } from "../resiliency/replay.ts";
import { resolvePolicy } from "../resiliency/policy/resolve.ts";
import type { PolicySet } from "../resiliency/policy/types.ts";
import type { AccessControl, Decision } from "../security/acl/policy.ts";
import type { Caller } from "./edge/context.ts";
import type { DrainGate } from "./edge/inbound-steps.ts";
import { LiveComponents } from "../components/live.ts";
import { meshletHome } from "../resolvers/local.ts";
import { NO_TRACING, type Tracing } from "../observability/tracing.ts";
import { metricsHandler, statHistory } from "../observability/metrics-endpoint.ts";
import type { StatHistory } from "../observability/stat-history.ts";
import { type MemoryGuard, sidecarMemoryGuard } from "./memory-guard.ts";

/** Targets (app-ids) with built Calls and retry budgets kept at once; the least recently used go. */
const TARGETS_MAX = 1024;
/** A target unused this long is forgotten (rebuilt on its next call). */
const TARGET_IDLE_MS = 10 * 60_000;
const SWEEP_MS = 30_000;
/** A stopping sidecar keeps refusing new peer calls (as never delivered) until none came for this long... */
const LINGER_QUIET_MS = 200;
/** ...or for at most this long (and never past the graceful shutdown period). */
const LINGER_MAX_MS = 2_000;

export interface StartedSidecar {
  readonly httpPort: number;
  readonly internalPort: number;
  readonly metricsPort: number | null;
}

/** Dapr's host address: HOST_ADDRESS, else the first non-internal IPv4, else loopback. */
function hostAddress(): string {
  if (process.env.HOST_ADDRESS) return process.env.HOST_ADDRESS;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

export class Sidecar {
  readonly state: SidecarState = { ready: false, outboundReady: false, shuttingDown: false, notReady: null, extended: new Map() };
  readonly metrics = new Metrics();
  /** Dapr's HTTP and invocation families; null when metrics are off. */
  readonly httpMetrics: HttpMetrics | null;
  private readonly dialer: Dialer;
  private readonly peerDialer: Dialer;
  private readonly transport: InternalTransport;
  /** The policy in force; a reload replaces this one reference and forgets the built Calls. */
  private policies: PolicySet;
  /** Per-target state, bounded: app-ids come from clients, so unknown ones must not pile up. */
  private readonly targets = new BoundedMap<string, Call>(TARGETS_MAX, TARGET_IDLE_MS, () => systemClock.now());
  private readonly budgets = new BoundedMap<string, RetryBudget>(TARGETS_MAX, TARGET_IDLE_MS, () => systemClock.now());
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private readonly listeners: Listener[] = [];
  private internal: Listener | null = null;
  private metricsListener: Listener | null = null;
  /** The last minute of invocation totals, for `meshlet stat` (with the metrics port). */
  private statHistory: StatHistory | null = null;
  private resourcesWatch: { stop(): void } | null = null;
  private configWatch: { stop(): void } | null = null;
  /** The access control in force; a Configuration reload replaces this one reference. */
  private acl: AccessControl | null;
  private stopping: Promise<void> | null = null;
  private readonly deps: StackDeps;
  /** Registration and readiness: in discovery when the app (and the certificate) allow. */
  private readonly presence: Presence;
  /** The internal port's drain: new peer calls are refused as never delivered once set. */
  private readonly gate: DrainGate = { draining: false, seen: 0 };
  /** --max-memory: both listeners refuse new calls while it sheds; null when off. */
  readonly memory: MemoryGuard | null;
  /** The components in force (state and secret stores), opened at start, swapped on reload. */
  readonly components: LiveComponents;
  /** Each target app-id's endpoint states (meshlet_endpoints); dropped with the target's Call. */
  private readonly endpointTables = new EndpointTables(TARGETS_MAX);
  private readonly absentCall: Call = (_req, ctx) =>
    Promise.reject(this.resolver.absentError!({ appId: ctx.appId, namespace: ctx.namespace }));
  /** Called when the API asks the sidecar to stop (POST /v1.0/shutdown). */
  onShutdownRequest: (force: boolean) => void = (force) => void this.stop(force);

  constructor(
    readonly cfg: SidecarConfig,
    private readonly runtime: Runtime,
    readonly resolver: Resolver,
    private readonly log: Logger,
    transport?: InternalTransport,
    /** Spans and export; NO_TRACING (the default) when spec.tracing names no exporter. */
    private readonly tracing: Tracing = NO_TRACING,
  ) {
    this.transport = transport ?? plainTransport(runtime);
    this.dialer = runtime.dialer({ connectTimeoutMs: cfg.connectTimeoutMs });
    this.peerDialer = this.transport.dialer({ connectTimeoutMs: cfg.connectTimeoutMs });
    this.policies = cfg.policies;
    this.acl = cfg.accessControl ?? null;
    this.httpMetrics = cfg.metrics === null ? null : new HttpMetrics(this.metrics.registry, cfg.metrics ?? DEFAULT_METRICS, cfg.appId);
    this.presence = new Presence(cfg, resolver, this.state, log, () => this.internal?.port ?? null);
    this.memory = cfg.maxMemory ? sidecarMemoryGuard(cfg.maxMemory, systemClock, log, runtime.collectGarbage) : null;
    this.deps = {
      self: { appId: cfg.appId, namespace: cfg.namespace },
      dialer: this.dialer,
      peerDialer: this.peerDialer,
      resolver,
      tryTimeoutMs: cfg.tryTimeoutMs,
      maxBodySize: cfg.maxBodySize,
      app: cfg.app,
      appApiToken: cfg.appApiToken,
      peerSecret: cfg.peerSecret,
      clock: systemClock,
      random: Math.random,
      events: resilienceEvents({ appId: cfg.appId, namespace: cfg.namespace, log, metrics: this.metrics }),
      breakers: new BreakerRegistry(() => systemClock.now()),
      replayCap: DEFAULT_REPLAY_CAP,
      tracing,
      metrics: this.httpMetrics,
      publishEndpoints: (target, states) => this.endpointTables.publish(target, states),
      appHealth: this.presence.appHealth,
      observeResolve: (appId, ms, ok, ctx) => {
        this.metrics.resolution.observe({ resolver: resolver.name, outcome: ok ? "found" : "failed" }, ms / 1000);
        // Its own span, under the call's server span: how long finding the instances took.
        if (tracing.on && ctx.span?.sampled) {
          const end = Date.now();
          tracing.record(`resolve ${appId}`, ctx.span, end - ms, end, { "meshlet.resolver": resolver.name, "meshlet.found": ok, "meshlet.cache_hit": false, "net.peer.name": appId });
        }
        if (ms > 1 && log.enabled("debug")) log.debug("name resolution", { target: appId, resolver: resolver.name, ms: ms.toFixed(2), found: ok });
      },
    };
    this.components = new LiveComponents(
      {
        appId: cfg.appId,
        namespace: cfg.namespace,
        home: meshletHome(),
        log,
        events: resilienceEvents({ appId: cfg.appId, namespace: cfg.namespace, log, metrics: this.metrics, kind: "component" }),
        breakers: this.deps.breakers,
        clock: systemClock,
        random: Math.random,
      },
      this.policies,
    );
    this.recordLoaded();
    registerLiveGauges(this.metrics.registry, this.endpointTables, { app: this.dialer, peer: this.peerDialer }, this.memory, () => ({
      api: this.listeners.reduce((n, l) => n + (l.tunnels?.() ?? 0), 0),
      internal: this.internal?.tunnels?.() ?? 0,
    }));
  }

  private isSelf(appId: string, namespace: string): boolean {
    return appId === this.cfg.appId && namespace === this.cfg.namespace;
  }

  /** Per-target decisions, made once: the effective policy and the target's retry budget. */
  plan(appId: string): TargetPlan {
    let budget = this.budgets.get(appId);
    if (!budget) this.budgets.set(appId, (budget = new RetryBudget(DEFAULT_BUDGET, () => systemClock.now())));
    return { target: appId, policy: resolvePolicy(this.policies, appId, this.cfg.tryTimeoutMs), budget };
  }

  /** The Call for one target, built once and reused for every later request. */
  target(appId: string, namespace: string): Call {
    const key = `${namespace}/${appId}`;
    let call = this.targets.get(key);
    if (call) return call;
    // An app-id the resolver knows to be absent builds no per-target state: a flood of unknown
    // ids then costs neither memory nor the garbage of building and evicting targets.
    if (!this.isSelf(appId, namespace) && this.resolver.absent?.({ appId, namespace })) return this.absentCall;
    call = this.isSelf(appId, namespace) ? selfCall(this.deps, this.plan(appId)) : outboundCall(this.deps, this.plan(appId));
    this.targets.set(key, call);
    return call;
  }

  /** Swaps the policy in force; Calls are rebuilt lazily, breakers with unchanged policy survive. */
  applyPolicies(set: PolicySet): void {
    this.policies = set;
    this.targets.clear();
    this.components.applyPolicies(set);
    this.recordLoaded();
  }

  /** Swaps the access control in force (a validated Configuration reload). */
  applyAccessControl(acl: AccessControl | null): void {
    this.acl = acl;
  }

  /** Whether the internal port runs mTLS, for metadata, list and doctor. */
  get mtls(): boolean {
    return this.transport.name === "mtls";
  }

  private countAccess(d: Decision, caller: Caller | null, verb: string): void {
    const m = this.metrics;
    const family = d.level === "app" ? (d.allowed ? m.aclAppAllowed : m.aclAppBlocked) : d.allowed ? m.aclGlobalAllowed : m.aclGlobalBlocked;
    family.inc({ app_id: caller?.appId ?? "", trustDomain: caller?.trustDomain ?? "", namespace: caller?.namespace ?? "", httpverb: verb });
  }

  private recordLoaded(): void {
    this.metrics.loaded.reset();
    for (const r of this.policies.resources) this.metrics.loaded.set({ app_id: this.cfg.appId, name: r.split(" ")[0]!, namespace: this.cfg.namespace }, 1);
  }

  explain(appId: string, namespace: string, verb: string, method: string): string {
    const policy = resolvePolicy(this.policies, appId, this.cfg.tryTimeoutMs);
    return explainText(this.policies, policy, this.isSelf(appId, namespace), verb, method);
  }

  async start(): Promise<StartedSidecar> {
    const cfg = this.cfg;
    try {
      // Components come up before the app channel, as in daprd.
      await this.components.open(cfg.components);
      const components = this.components;
      const inbound = inboundHandler({
        cfg,
        tracing: this.tracing,
        mtls: this.transport.name === "mtls",
        acl: () => this.acl,
        onAccess: (d, caller, verb) => this.countAccess(d, caller, verb),
        logFailure: throttledInfo(this.log),
        toApp: inboundAppCall(this.deps, this.plan(cfg.appId)),
        metrics: this.httpMetrics,
        gate: this.gate,
        memory: this.memory,
      });
      const maxHeaderBytes = cfg.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
      try {
        this.internal = await this.transport.listen({ host: cfg.internalHost, port: cfg.internalPort, handler: inbound, maxHeaderBytes });
      } catch (e) {
        // `::` (dual stack) is refused where IPv6 is disabled: fall back to IPv4 only.
        if (cfg.internalHost !== "::" || e instanceof PortInUseError) throw e;
        this.internal = await this.transport.listen({ host: "0.0.0.0", port: cfg.internalPort, handler: inbound, maxHeaderBytes });
      }
      const handler = edgeHandler({
        cfg,
        tracing: this.tracing,
        apiLogging: cfg.apiLogging ?? null,
        metrics: this.httpMetrics,
        state: this.state,
        log: this.log,
        logFailure: throttledInfo(this.log),
        hostname: os.hostname(),
        hostIp: hostAddress(),
        target: (id, ns) => this.target(id, ns),
        shutdown: (force) => this.onShutdownRequest(force),
        explain: (id, ns, verb, method) => this.explain(id, ns, verb, method),
        stateApi: { stores: () => components.current.stores, appId: cfg.appId, maxBodySize: cfg.maxBodySize },
        components,
        memory: this.memory,
      });
      let httpPort = cfg.httpPort;
      for (const host of cfg.listenAddresses) {
        const l = await this.runtime.listen({ host, port: httpPort, handler, maxHeaderBytes });
        httpPort = l.port;
        this.listeners.push(l);
      }
      if (cfg.metricsPort !== null) {
        this.metricsListener = await this.runtime.listen({
          host: cfg.listenAddresses[0] ?? "127.0.0.1",
          port: cfg.metricsPort,
          maxHeaderBytes,
          handler: metricsHandler(this.metrics.registry, (this.statHistory = statHistory(this.metrics.registry))),
        });
      }
      if (cfg.resourcesPaths.length) {
        const [{ watchResources }, { policyReloads }, { componentReloads }] = await Promise.all([
          import("../resources/watch.ts"),
          import("../resiliency/reload.ts"),
          import("../components/reload.ts"),
        ]);
        const { log, metrics } = this;
        this.resourcesWatch = watchResources({
          paths: cfg.resourcesPaths,
          appId: cfg.appId,
          log,
          consumers: [policyReloads({ log, metrics, apply: (set) => this.applyPolicies(set) }), componentReloads({ log, metrics, live: this.components, initial: cfg.components })],
        });
      }
      if (cfg.configFile) {
        const { watchConfiguration } = await import("../config/watch-configuration.ts");
        this.configWatch = watchConfiguration(cfg.configFile, this.log, (c) => this.applyAccessControl(c.accessControl));
      }
      this.state.outboundReady = true;
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
      this.memory?.start();
      this.presence.start();
      return { httpPort, internalPort: this.internal.port, metricsPort: this.metricsListener?.port ?? null };
    } catch (e) {
      await this.closeListeners(true);
      // A start retried on another port builds a new sidecar: this one's stores must not linger.
      await this.components.close();
      throw e;
    }
  }

  /** Drops per-target state nobody used lately (the bounds cap it in between). */
  private sweep(): void {
    this.targets.sweep();
    const live = new Set<string>();
    for (const key of this.targets.keys()) live.add(key.slice(key.indexOf("/") + 1));
    this.endpointTables.retain(live);
    this.budgets.sweep();
    this.deps.breakers.sweep();
  }

  /** Out of discovery while the workload certificate is expired (mTLS identity), saying why. */
  suspend(why: string): Promise<void> {
    return this.presence.suspend(why);
  }

  resume(): void {
    this.presence.resume();
  }

  /** Deregisters first (no new callers), then drains for up to the graceful period. */
  stop(force = false): Promise<void> {
    this.stopping ??= (async () => {
      this.state.shuttingDown = true;
      this.state.ready = false;
      this.presence.stop();
      if (this.sweeper) clearInterval(this.sweeper);
      this.memory?.stop();
      this.resourcesWatch?.stop();
      this.configWatch?.stop();
      await this.resolver.deregister().catch(() => {});
      const grace = force ? 0 : this.cfg.gracefulShutdownMs;
      await this.lingerInbound(Math.min(grace, LINGER_MAX_MS));
      const graceful = this.closeListeners(false);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([graceful, new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
      clearTimeout(timer);
      await this.closeListeners(true);
      await this.resolver.close().catch(() => {});
      await Promise.all([this.dialer.close(), this.peerDialer.close()]).catch(() => {});
      await this.tracing.shutdown();
      await this.components.close();
    })();
    return this.stopping;
  }

  /**
   * Before the internal port's connections close: peers still sending (their discovery has not
   * caught up) get 503 shutting_down marked never delivered, and move the call elsewhere, until
   * no call came for LINGER_QUIET_MS (at most `maxMs`). Closing at once instead made a POST
   * written as our FIN arrived fail without reaching any app (npm run soak, SIGTERM variant).
   */
  private async lingerInbound(maxMs: number): Promise<void> {
    this.gate.draining = true;
    const until = performance.now() + maxMs;
    let seen = -1;
    while (this.gate.seen !== seen && performance.now() < until) {
      seen = this.gate.seen;
      await new Promise((r) => setTimeout(r, LINGER_QUIET_MS));
    }
  }

  private async closeListeners(force: boolean): Promise<void> {
    this.statHistory?.stop();
    const all = [...this.listeners, ...(this.internal ? [this.internal] : []), ...(this.metricsListener ? [this.metricsListener] : [])];
    await Promise.all(all.map((l) => l.close(force).catch(() => {})));
  }
}
