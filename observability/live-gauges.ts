// Gauges read when Prometheus scrapes, not updated per request: each target's endpoints by the
// state its balancer last saw (meshlet_endpoints), the pooled connections to the app and to
// peer sidecars (meshlet_pool_connections), and the memory guard's limit, state and refusals.

import { Counter, Gauge, type Prom } from "../core/metrics.ts";
import type { EndpointStates } from "../proxy/balance.ts";
import type { Dialer } from "../runtime/dial.ts";
import type { MemoryGuard } from "../proxy/memory-guard.ts";

/** Each target app-id's endpoint states, bounded like the targets and dropped with them. */
export class EndpointTables {
  private readonly tables = new Map<string, EndpointStates>();
  constructor(private readonly max: number) {}

  publish(target: string, states: EndpointStates): void {
    this.tables.delete(target);
    this.tables.set(target, states);
    // Bounded between sweeps too: past the targets' bound the oldest goes.
    if (this.tables.size > this.max) this.tables.delete(this.tables.keys().next().value!);
  }

  /** Keeps only the app-ids that still have a built Call. */
  retain(live: ReadonlySet<string>): void {
    for (const appId of this.tables.keys()) if (!live.has(appId)) this.tables.delete(appId);
  }

  entries(): IterableIterator<[string, EndpointStates]> {
    return this.tables.entries();
  }
}

export function registerLiveGauges(
  registry: Prom.Registry,
  tables: EndpointTables,
  dialers: Record<"app" | "peer", Dialer>,
  memory: MemoryGuard | null = null,
  tunnels: () => Record<"api" | "internal", number> = () => ({ api: 0, internal: 0 }),
): void {
  if (memory) registerMemoryGauges(registry, memory);
  new Gauge({
    name: "meshlet_websockets_open",
    help: "WebSocket tunnels open through this sidecar: listener=api from its app's clients, listener=internal from peer sidecars",
    labelNames: ["listener"],
    registers: [registry],
    collect() {
      for (const [listener, n] of Object.entries(tunnels())) this.set({ listener }, n);
    },
  });
  new Gauge({
    name: "meshlet_endpoints",
    help: "Instances of each target app-id as its balancer last saw them: new (not measured yet), healthy, failing (last attempt failed)",
    labelNames: ["app_id", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [target, states] of tables.entries()) for (const [state, n] of Object.entries(states())) this.set({ app_id: target, state }, n);
    },
  });
  new Gauge({
    name: "meshlet_pool_connections",
    help: "Keep-alive connections open from this sidecar, to its app (pool=app) and to peer sidecars (pool=peer), idle or busy",
    labelNames: ["pool", "state"],
    registers: [registry],
    collect() {
      for (const [pool, d] of Object.entries(dialers)) {
        const c = d.connections?.();
        if (!c) continue;
        this.set({ pool, state: "idle" }, c.idle);
        this.set({ pool, state: "busy" }, Math.max(0, c.open - c.idle));
      }
    },
  });
}

/** --max-memory's guard: its limit, whether it sheds now, the collections it ran and the calls it refused. */
function registerMemoryGauges(registry: Prom.Registry, g: MemoryGuard): void {
  new Gauge({
    name: "meshlet_memory_limit_bytes",
    help: "RSS at which this sidecar refuses new calls (--max-memory, or 90 % of the container's memory limit)",
    registers: [registry],
    collect() {
      this.set(g.limitBytes);
    },
  });
  new Gauge({
    name: "meshlet_memory_shedding",
    help: "1 while this sidecar refuses new calls because its RSS went over its memory limit",
    registers: [registry],
    collect() {
      this.set(g.shedding ? 1 : 0);
    },
  });
  new Counter({
    name: "meshlet_memory_collections_total",
    help: "Full garbage collections the memory guard ran because RSS was over its limit (or, while refusing calls, over the resume mark)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(g.collections);
    },
  });
  new Counter({
    name: "meshlet_memory_refused_total",
    help: "Calls refused with 503 memory_pressure since the sidecar started",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(g.refusedTotal);
    },
  });
}
