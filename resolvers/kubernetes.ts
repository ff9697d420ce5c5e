// Kubernetes DNS: `<app-id>-dapr.<namespace>.svc.<cluster-domain>` (the headless Service Dapr's
// injector makes), every pod address through SRV then A/AAAA records, cached for the records'
// TTL. Registration is Kubernetes' job, so register/deregister do nothing here.

import { Resolver as DnsResolver } from "node:dns/promises";
import fs from "node:fs";
import { BoundedMap } from "../core/bounded-map.ts";
import { endpoint, type Endpoint } from "../core/call.ts";
import { invokeError } from "../core/errors.ts";
import { Evictions } from "./evictions.ts";
import { type AppRef, notFound, type Resolver } from "./types.ts";

export interface KubernetesOptions {
  /** Dapr's `clusterDomain`; else the resolv.conf search list; else cluster.local. */
  clusterDomain?: string;
  /** Dapr's `template`, e.g. `{{.ID}}-{{.Data.region}}.internal:{{.Port}}`. */
  template?: string;
  /** Values for `{{.Data.x}}` in the template. */
  data?: Record<string, string>;
  /** Port of the peers' internal listener when records carry none (Dapr: 50002). */
  port?: number;
  /** meshlet extension: DNS servers to ask (`host:port`), instead of the system's. */
  servers?: string[];
  /** Cap on how long an answer is reused, whatever its TTL (ms). */
  maxTtlMs?: number;
  evictMs?: number;
  /** The clock (ms) for record TTLs and evictions; injected by tests. */
  now?: () => number;
  resolvConf?: string;
}

/** The cluster domain from a resolv.conf search list (`<ns>.svc.<domain>` / `svc.<domain>`). */
export function clusterDomainFrom(resolvConf: string): string | null {
  for (const line of resolvConf.split("\n")) {
    const m = /^\s*search\s+(.+)$/.exec(line);
    if (!m) continue;
    for (const d of m[1]!.trim().split(/\s+/)) {
      const s = /(?:^|\.)svc\.(.+)$/.exec(d);
      if (s) return s[1]!;
    }
  }
  return null;
}

/** Fills Dapr's template (Go syntax subset: `{{.ID}}`, `{{.Namespace}}`, `{{.Port}}`, `{{.Data.key}}`). */
export function fillTemplate(t: string, v: { id: string; namespace: string; port: number; data: Record<string, string> }): string {
  return t.replace(/\{\{\s*\.(ID|Namespace|Port|Data\.([A-Za-z0-9_]+))\s*\}\}/g, (_m, k: string, d?: string) =>
    k === "ID" ? v.id : k === "Namespace" ? v.namespace : k === "Port" ? String(v.port) : (v.data[d!] ?? ""),
  );
}

interface Cached {
  eps: Endpoint[];
  expires: number;
}

export class KubernetesResolver implements Resolver {
  readonly name = "kubernetes";
  readonly clusterDomain: string;
  private readonly dns = new DnsResolver({ timeout: 1000, tries: 2 });
  private readonly cache = new BoundedMap<string, Cached>(4096, 5 * 60_000, () => this.now());
  private readonly inflight = new Map<string, Promise<Endpoint[]>>();
  private readonly evicted: Evictions;
  private readonly port: number;
  private readonly maxTtlMs: number;
  private readonly now: () => number;

  constructor(private readonly o: KubernetesOptions = {}) {
    let resolv = "";
    try {
      resolv = fs.readFileSync(o.resolvConf ?? "/etc/resolv.conf", "utf8");
    } catch {
      // no resolv.conf: fall through to the default domain
    }
    this.clusterDomain = o.clusterDomain ?? clusterDomainFrom(resolv) ?? "cluster.local";
    if (o.servers?.length) this.dns.setServers(o.servers);
    this.port = o.port ?? 50002;
    this.maxTtlMs = o.maxTtlMs ?? 30_000;
    this.evicted = new Evictions(o.evictMs ?? 5_000, o.now);
    this.now = o.now ?? Date.now;
  }

  serviceName(ref: AppRef): string {
    return `${ref.appId}-dapr.${ref.namespace}.svc.${this.clusterDomain}`;
  }

  async resolve(ref: AppRef): Promise<readonly Endpoint[]> {
    const key = `${ref.namespace}/${ref.appId}`;
    const hit = this.cache.get(key);
    let eps: Endpoint[];
    if (hit && hit.expires > this.now()) eps = hit.eps;
    else {
      let p = this.inflight.get(key);
      if (!p) {
        p = this.lookup(ref).finally(() => this.inflight.delete(key));
        this.inflight.set(key, p);
      }
      eps = await p;
    }
    const live = this.evicted.filter(eps);
    return live.length ? live : eps;
  }

  private async lookup(ref: AppRef): Promise<Endpoint[]> {
    const key = `${ref.namespace}/${ref.appId}`;
    let host: string;
    let port = this.port;
    if (this.o.template) {
      const filled = fillTemplate(this.o.template, { id: ref.appId, namespace: ref.namespace, port: this.port, data: this.o.data ?? {} });
      const m = /^(.*):(\d+)$/.exec(filled);
      host = m ? m[1]! : filled;
      if (m) port = Number(m[2]);
    } else {
      host = this.serviceName(ref);
    }
    const t0 = performance.now();
    let eps: Array<{ ep: Endpoint; ttl: number }> = [];
    try {
      if (!this.o.template) eps = await this.viaSrv(host);
      if (eps.length === 0) eps = (await this.addresses(host)).map((a) => ({ ep: endpoint(a.address, port), ttl: a.ttl }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ETIMEOUT" || code === "ECONNREFUSED" || code === "ESERVFAIL") {
        throw invokeError("resolution_timeout", ref.appId, `no answer from DNS for ${host} within ${Math.round(performance.now() - t0)} ms (${code})`, { cause: e });
      }
      throw e;
    }
    if (eps.length === 0) throw notFound(ref, this.name, `no DNS records for ${host}`);
    const ttlMs = Math.min(this.maxTtlMs, Math.max(0, Math.min(...eps.map((e) => e.ttl))) * 1000);
    const list = eps.map((e) => e.ep);
    this.cache.set(key, { eps: list, expires: this.now() + ttlMs });
    return list;
  }

  /** SRV `_dapr-internal._tcp.<svc>`: one record per pod, each resolved to its addresses. */
  private async viaSrv(svc: string): Promise<Array<{ ep: Endpoint; ttl: number }>> {
    let srv: Awaited<ReturnType<DnsResolver["resolveSrv"]>>;
    try {
      srv = await this.dns.resolveSrv(`_dapr-internal._tcp.${svc}`);
    } catch (e) {
      if (isNoData(e)) return [];
      throw e;
    }
    const out: Array<{ ep: Endpoint; ttl: number }> = [];
    for (const r of srv) {
      for (const a of await this.addresses(r.name)) out.push({ ep: endpoint(a.address, r.port), ttl: a.ttl });
    }
    return out;
  }

  private async addresses(host: string): Promise<Array<{ address: string; ttl: number }>> {
    const [v4, v6] = await Promise.all([
      this.dns.resolve4(host, { ttl: true }).catch((e) => (isNoData(e) ? [] : Promise.reject(e))),
      this.dns.resolve6(host, { ttl: true }).catch((e) => (isNoData(e) ? [] : Promise.reject(e))),
    ]);
    return [...v4, ...v6];
  }

  evict(_ref: AppRef, ep: Endpoint): void {
    this.evicted.add(ep);
  }
  async register(): Promise<void> {}
  async deregister(): Promise<void> {}
  async close(): Promise<void> {
    this.dns.cancel();
  }
}

function isNoData(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOTFOUND" || code === "ENODATA" || code === "NOTFOUND" || code === "ENONAME";
}
