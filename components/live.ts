// The components a sidecar serves (secret stores and state stores) as one set swapped by a single
// reference: a reload opens the changed stores first and swaps only once every one is up, keeping
// unchanged stores open; the guard of each store's calls follows the resiliency policy in force.

import type { ComponentInfo, ComponentSpec } from "../config/configuration.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import type { BreakerRegistry } from "../resiliency/breaker-layer.ts";
import { componentGuard, type Guard } from "../resiliency/component-guard.ts";
import type { ResilienceEvents } from "../resiliency/events.ts";
import { resolveComponentPolicy } from "../resiliency/policy/resolve-component.ts";
import type { PolicySet } from "../resiliency/policy/types.ts";
import { openSecretStores, resolveSecretRefs, type SecretStore } from "../secrets/stores.ts";
import type { NamedStore } from "../state/api.ts";
import { DEFAULT_STORE, openStores, type OpenedStores } from "../state/stores.ts";
import { EtagInvalid, EtagMismatch } from "../state/store.ts";

/** What the APIs read, swapped whole on a reload. */
export interface ComponentSet {
  readonly stores: ReadonlyMap<string, NamedStore>;
  readonly secretStores: ReadonlyMap<string, SecretStore>;
  /** As the metadata API lists them (the default state store included). */
  readonly listed: readonly ComponentInfo[];
}

export interface LiveComponentsDeps {
  readonly appId: string;
  readonly namespace: string;
  /** $MESHLET_HOME: the default store's folder, and where relative SQLite paths start. */
  readonly home: string;
  readonly log: Logger;
  readonly events: ResilienceEvents;
  readonly breakers: BreakerRegistry;
  readonly clock: Clock;
  readonly random: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Every component with its capabilities, and the default state store when it serves. */
function listed(specs: readonly ComponentSpec[], stores: OpenedStores): ComponentInfo[] {
  const out: ComponentInfo[] = specs.map((c) => ({ name: c.name, type: c.type, version: c.version, capabilities: [...(stores.capabilities.get(c.name) ?? [])] }));
  const dflt = stores.stores.get(DEFAULT_STORE);
  if (dflt && !specs.some((c) => c.name === DEFAULT_STORE)) out.push({ name: DEFAULT_STORE, type: dflt.store.type, version: "v1", capabilities: [...dflt.store.features] });
  return out;
}

/** An ETag conflict is the store answering, not failing: not retried, not a breaker failure. */
const isAnswer = (e: unknown) => e instanceof EtagMismatch || e instanceof EtagInvalid;

export class LiveComponents {
  private opened: OpenedStores | null = null;
  private set: ComponentSet = { stores: new Map(), secretStores: new Map(), listed: [] };
  private policies: PolicySet;
  /** Each store's guard under the policies in force, built on the store's first call after a swap. */
  private readonly guards = new Map<string, Guard>();
  /** One open or reload at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly d: LiveComponentsDeps,
    policies: PolicySet,
  ) {
    this.policies = policies;
  }

  get current(): ComponentSet {
    return this.set;
  }

  /** Opens the first set; a component that cannot be used throws (the sidecar does not start). */
  open(specs: readonly ComponentSpec[]): Promise<void> {
    return this.serial(() => this.swapTo(specs));
  }

  /**
   * Swaps to the components of changed files: secrets resolved, changed stores opened, and only
   * then the swap; stores whose component did not change stay open and keep their data. On any
   * error the set in force stays, and the error is thrown (the watcher logs it).
   */
  reload(specs: readonly ComponentSpec[]): Promise<void> {
    return this.serial(() => this.swapTo(specs));
  }

  /** A new resiliency policy: each store's guard is rebuilt on its next call. */
  applyPolicies(set: PolicySet): void {
    this.policies = set;
    this.guards.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.serial(async () => {
      await this.opened?.close();
      this.opened = null;
    });
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => {});
    return run;
  }

  private async swapTo(specs: readonly ComponentSpec[]): Promise<void> {
    if (this.closed) return;
    // Secret stores first: other components' secretKeyRef values come from them.
    const secretStores = openSecretStores(specs, this.d.env);
    const resolved = resolveSecretRefs(specs, secretStores);
    const before = this.opened;
    const next = await openStores(resolved, { ...this.d, guardFor: (name, type) => this.guardFor(name, type), previous: before });
    if (this.closed) {
      await next.close(new Set([...(before?.stores.values() ?? [])].map((s) => s.store)));
      return;
    }
    this.opened = next;
    this.guards.clear();
    this.set = Object.freeze({ stores: next.stores, secretStores, listed: Object.freeze(listed(specs, next)) });
    if (before) {
      // Calls already running on a replaced store finish first: SQLite and memory answer at once,
      // and the Redis client's close waits for the commands it has sent.
      const kept = new Set([...next.stores.values()].map((s) => s.store));
      await before.close(kept);
    }
  }

  /** A store's guard: looks up the guard in force when it runs, so a policy reload reaches open stores. */
  private guardFor(name: string, type: string): Guard {
    return (op, signal) => {
      let g = this.guards.get(name);
      if (!g) {
        g = componentGuard(resolveComponentPolicy(this.policies, name, type), { events: this.d.events, breakers: this.d.breakers, clock: this.d.clock, random: this.d.random, isAnswer });
        this.guards.set(name, g);
      }
      return g(op, signal);
    };
  }
}
