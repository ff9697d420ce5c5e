// A sidecar's presence in discovery: registered and ready once its app accepts connections,
// taken out (saying why) when the app turns unhealthy or the workload certificate expires, and
// back in when that ends; a failed registration is retried. sidecar.ts owns the listeners and
// hands this the resolver and the shared readiness state.

import { systemClock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import type { Registration, Resolver } from "../resolvers/types.ts";
import type { SidecarState } from "./api.ts";
import { APP_HEALTH_DEFAULTS, AppHealth } from "./app-health.ts";
import { httpProbe, tcpProbe } from "./app-probes.ts";
import type { SidecarConfig } from "./config.ts";

/** A failed registration is tried again this often. */
const REGISTER_RETRY_MS = 1_000;

export class Presence {
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  /** Out of discovery because the workload certificate expired (suspend), until resume. */
  private certSuspended = false;
  /** The local app's health; null without an app. */
  readonly appHealth: AppHealth | null;

  constructor(
    private readonly cfg: SidecarConfig,
    private readonly resolver: Resolver,
    private readonly state: SidecarState,
    private readonly log: Logger,
    /** The internal listener's port once it listens (null before): what peers dial. */
    private readonly internalPort: () => number | null,
  ) {
    this.appHealth = this.makeAppHealth();
  }

  /** Probes by HTTP on the check path when checks are on and a path is set, else by TCP connect. */
  private makeAppHealth(): AppHealth | null {
    const app = this.cfg.app;
    if (!app) return null;
    const o = this.cfg.appHealth ?? APP_HEALTH_DEFAULTS;
    const probe = o.enabled && o.path ? httpProbe(app.host, app.port, o.path, o.timeoutMs, this.cfg.appApiToken) : tcpProbe(app.host, app.port, o.timeoutMs);
    return new AppHealth(o, probe, systemClock, (healthy, why) => void this.appHealthChanged(healthy, why));
  }

  /** Readiness: with an app port, ready (and registered) once the app accepts connections. */
  start(): void {
    const app = this.cfg.app;
    if (!app) {
      void this.becomeReady();
      return;
    }
    let announced = false;
    const listening = tcpProbe(app.host, app.port, 500);
    const tick = async () => {
      this.probeTimer = null;
      if (this.state.shuttingDown) return;
      if ((await listening()) === null) {
        await this.becomeReady();
        this.appHealth?.start();
        return;
      }
      if (!announced) {
        announced = true;
        this.log.info(`waiting for the app to listen on ${app.key}`);
        await this.announceNotReady(`its app on ${app.key} refuses connections (not started yet, or not listening on that port)`);
      }
      this.probeTimer = setTimeout(tick, 100);
    };
    void tick();
  }

  /** No more probes or registration retries (the sidecar is stopping). */
  stop(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    this.appHealth?.stop();
  }

  /**
   * Takes this sidecar out of discovery and reports it not ready, saying why (its workload
   * certificate expired while renewal kept failing): peers stop dialing a certificate they would
   * refuse. `resume` registers it again.
   */
  async suspend(why: string): Promise<void> {
    if (this.state.shuttingDown) return;
    this.certSuspended = true;
    this.log.error("sidecar taken out of discovery", { why });
    await this.leaveDiscovery(why);
  }

  resume(): void {
    if (this.state.shuttingDown || this.state.notReady === null) return;
    this.certSuspended = false;
    // An app that went down meanwhile keeps the sidecar out; its recovery brings it back.
    if (this.appHealth && !this.appHealth.healthy) return;
    this.log.info("sidecar back in discovery");
    void this.becomeReady();
  }

  /** An unhealthy app takes this sidecar out of discovery (not ready, saying why); a healthy one brings it back. */
  private async appHealthChanged(healthy: boolean, why: string): Promise<void> {
    if (this.state.shuttingDown) return;
    if (healthy) {
      // A certificate suspension outlives the app's recovery: resume() brings it back then.
      if (this.certSuspended) return this.log.info("app healthy again; sidecar stays out of discovery until its certificate is renewed", { why });
      this.log.info("app healthy again; sidecar back in discovery", { why });
      await this.becomeReady();
      return;
    }
    this.log.warn("app unhealthy; sidecar taken out of discovery", { why });
    await this.leaveDiscovery(why);
  }

  /** Not ready (healthz says why), no registration retry pending, out of discovery. */
  private async leaveDiscovery(why: string): Promise<void> {
    this.state.ready = false;
    this.state.notReady = why;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    await this.announceNotReady(why);
  }

  /**
   * Out of discovery, saying why where the resolver can carry it (the local registry: callers
   * get `app_unreachable` with the reason instead of "couldn't find service"); else deregistered.
   */
  private async announceNotReady(why: string): Promise<void> {
    const self = this.registration();
    if (!this.resolver.registerNotReady || !self) {
      await this.resolver.deregister().catch(() => {});
      return;
    }
    await this.resolver.registerNotReady(self, why).catch(() => this.resolver.deregister().catch(() => {}));
  }

  private registration(): Registration | null {
    const port = this.internalPort();
    if (port === null) return null;
    return { appId: this.cfg.appId, namespace: this.cfg.namespace, host: this.cfg.internalHost, port, info: this.cfg.registryInfo?.() };
  }

  /** Registers with the resolver, then reports ready; a failed registration is retried until it works. */
  private async becomeReady(): Promise<void> {
    this.probeTimer = null;
    const self = this.registration();
    if (this.state.shuttingDown || !self) return;
    try {
      await this.resolver.register(self);
    } catch (e) {
      // Not discoverable means not ready: healthz says why until a retry succeeds.
      const why = `registration with the ${this.resolver.name} resolver failed: ${(e as Error).message ?? String(e)}`;
      if (this.state.notReady !== why) this.log.error("registration failed; retrying", { resolver: this.resolver.name, error: why, retry_ms: REGISTER_RETRY_MS });
      this.state.notReady = why;
      this.state.ready = false;
      if (!this.state.shuttingDown) this.probeTimer = setTimeout(() => void this.becomeReady(), REGISTER_RETRY_MS);
      return;
    }
    if (this.state.notReady !== null) this.log.info("registered after earlier failures", { resolver: this.resolver.name });
    this.state.notReady = null;
    this.state.ready = true;
    this.log.info("sidecar ready", { app_id: this.cfg.appId, resolver: this.resolver.name, internal_port: self.port });
  }
}
