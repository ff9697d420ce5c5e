// mDNS discovery (multicast-dns) for edge boxes and LANs: advertises `<app-id>.<ns>._meshlet._tcp.local`
// with the internal port and the address of the interface each query arrived on; resolves with
// a single-flight query per app-id, a TTL cache refreshed in the background, goodbyes (TTL 0)
// honoured at once, and errors that tell "nobody answered" from "app-id unknown".

import os from "node:os";
import makeMdns from "multicast-dns";
import type { ResponsePacket, QueryPacket } from "multicast-dns";
import type { Answer, StringAnswer, SrvAnswer } from "dns-packet";
import type { RemoteInfo } from "node:dgram";
import { endpoint, type Endpoint } from "../core/call.ts";
import { invokeError } from "../core/errors.ts";
import { BoundedMap } from "../core/bounded-map.ts";
import { Evictions } from "./evictions.ts";
import { arrivalInterface, chooseInterfaces, type Choice, type Iface } from "./net-interfaces.ts";
import { type AppRef, notFound, type Registration, type Resolver } from "./types.ts";

export const SERVICE = "_meshlet._tcp.local";
export const appName = (ref: AppRef) => `${ref.appId}.${ref.namespace}.${SERVICE}`.toLowerCase();

/** A cold lookup is asked again this much later. */
const FOLLOW_UP_MS = 1_000;

export interface MdnsOptions {
  /** Interface names or CIDRs to use; default: every up, non-virtual, non-loopback interface. */
  interfaces?: string[];
  ipv6?: boolean;
  /** How long a lookup waits for a first answer (ms). */
  queryTimeoutMs?: number;
  /** After the first answer, how long to keep collecting other instances (ms). */
  collectMs?: number;
  /** TTL of the records this sidecar advertises (s). */
  ttlSeconds?: number;
  port?: number;
  evictMs?: number;
  /** The clock (ms) for evictions; injected by tests. */
  now?: () => number;
}

interface Entry {
  ep: Endpoint;
  expires: number;
  ttlMs: number;
}

type Mdns = ReturnType<typeof makeMdns>;

export class MdnsResolver implements Resolver {
  readonly name = "mdns";
  readonly choice: Choice;
  private readonly sockets: Array<{ iface: Iface; mdns: Mdns }> = [];
  /** Answers heard, per service name: bounded, since any host on the LAN may send them. */
  private readonly cache = new BoundedMap<string, Map<string, Entry>>(4096, 10 * 60_000, Date.now);
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Names with a follow-up query scheduled. */
  private readonly followUps = new Set<string>();
  /** Other meshlet instances heard from lately (target -> last seen), to explain failures. */
  private readonly seen = new BoundedMap<string, number>(4096, 10 * 60_000, Date.now);
  private readonly evicted: Evictions;
  private readonly o: Required<Omit<MdnsOptions, "interfaces" | "now">> & { interfaces?: string[] };
  private self: { reg: Registration; name: string; target: string } | null = null;
  private started = false;

  constructor(opts: MdnsOptions = {}) {
    this.o = {
      interfaces: opts.interfaces,
      ipv6: opts.ipv6 ?? false,
      queryTimeoutMs: opts.queryTimeoutMs ?? 500,
      collectMs: opts.collectMs ?? 60,
      ttlSeconds: opts.ttlSeconds ?? 60,
      port: opts.port ?? 5353,
      evictMs: opts.evictMs ?? 5_000,
    };
    this.choice = chooseInterfaces(opts.interfaces, { ipv6: this.o.ipv6 });
    this.evicted = new Evictions(this.o.evictMs, opts.now);
  }

  /** Opens one socket per chosen interface (lazily: a sidecar that never resolves still answers). */
  private start(): void {
    if (this.started) return;
    this.started = true;
    for (const iface of this.choice.chosen) {
      const mdns = makeMdns({
        type: iface.family === 6 ? "udp6" : "udp4",
        ip: iface.family === 6 ? "ff02::fb" : "224.0.0.251",
        port: this.o.port,
        interface: iface.family === 6 ? `::%${iface.name}` : iface.address,
        // Bound to the wildcard: a socket bound to a unicast address never sees multicast.
        bind: iface.family === 6 ? "::" : "0.0.0.0",
        multicast: true,
        loopback: true,
        reuseAddr: true,
      });
      mdns.on("query", (q: QueryPacket, rinfo: RemoteInfo) => this.onQuery(q, rinfo, iface));
      mdns.on("response", (r: ResponsePacket) => this.onResponse(r));
      mdns.on("error", () => {});
      this.sockets.push({ iface, mdns });
    }
  }

  describeInterfaces(): string {
    return this.choice.chosen.length ? this.choice.chosen.map((i) => `${i.name} (${i.address})`).join(", ") : "none";
  }

  // === advertising ===

  private records(iface: Iface | undefined, ttl: number): { answers: Answer[]; additionals: Answer[] } {
    const s = this.self!;
    const addrs = iface ? [iface] : this.choice.chosen;
    return {
      answers: [
        { name: s.name, type: "SRV", ttl, data: { port: s.reg.port, target: s.target, priority: 0, weight: 0 } } as SrvAnswer,
        { name: s.name, type: "TXT", ttl, data: [`appId=${s.reg.appId}`, `namespace=${s.reg.namespace}`] },
      ],
      additionals: addrs.map((a) => ({ name: s.target, type: a.family === 6 ? "AAAA" : "A", ttl, data: a.address }) as StringAnswer),
    };
  }

  /**
   * Every wildcard-bound socket sees every query, so only the socket of the interface the query
   * arrived on (by source subnet) answers, with that interface's address.
   */
  private onQuery(q: QueryPacket, rinfo: RemoteInfo, receivedOn: Iface): void {
    if (!this.self) return;
    const s = this.self;
    const iface = arrivalInterface(rinfo.address, this.choice.chosen);
    if (iface ? iface !== receivedOn : receivedOn !== this.sockets[0]?.iface) return;
    const sock = this.sockets.find((x) => x.iface === receivedOn);
    if (!sock) return;
    for (const question of q.questions ?? []) {
      const name = question.name.toLowerCase();
      if (name === s.name && (question.type === "SRV" || (question.type as string) === "ANY")) {
        sock.mdns.respond(this.records(iface, this.o.ttlSeconds));
      } else if (name === SERVICE && question.type === "PTR") {
        const r = this.records(iface, this.o.ttlSeconds);
        sock.mdns.respond({ answers: [{ name: SERVICE, type: "PTR", ttl: this.o.ttlSeconds, data: s.name }], additionals: [...r.answers, ...r.additionals] });
      }
    }
  }

  async register(reg: Registration): Promise<void> {
    this.start();
    const host = os.hostname().toLowerCase().replace(/[^a-z0-9-]/g, "-");
    this.self = { reg, name: appName(reg), target: `${host}-${process.pid}-${reg.port}.local` };
    // Announce twice, as RFC 6762 asks, so callers with a cache learn of us at once.
    const announce = () => {
      if (!this.self) return;
      for (const { iface, mdns } of this.sockets) mdns.respond(this.records(iface, this.o.ttlSeconds));
    };
    announce();
    setTimeout(announce, 1000).unref?.();
  }

  async deregister(): Promise<void> {
    if (!this.self) return;
    // Goodbye: the same records with TTL 0; callers drop this instance at once.
    for (const { iface, mdns } of this.sockets) mdns.respond(this.records(iface, 0));
    this.self = null;
    await new Promise((r) => setTimeout(r, 20));
  }

  // === resolving ===

  private onResponse(r: ResponsePacket): void {
    const all = [...(r.answers ?? []), ...(r.additionals ?? [])];
    const hosts = new Map<string, string[]>();
    for (const a of all) {
      if (a.type === "A" || a.type === "AAAA") {
        const k = a.name.toLowerCase();
        hosts.set(k, [...(hosts.get(k) ?? []), String(a.data)]);
      }
    }
    const now = Date.now();
    for (const a of all) {
      if (a.type !== "SRV" || !a.name.toLowerCase().endsWith(`.${SERVICE}`)) continue;
      const srv = a as SrvAnswer;
      const target = srv.data.target.toLowerCase();
      if (this.self && target === this.self.target) continue;
      const name = srv.name.toLowerCase();
      let entries = this.cache.get(name);
      if (!entries) this.cache.set(name, (entries = new Map()));
      const ttl = srv.ttl ?? 0;
      if (ttl === 0) {
        for (const k of [...entries.keys()]) if (k.startsWith(`${target}|`)) entries.delete(k);
        this.seen.delete(target);
      } else {
        this.seen.set(target, now);
        for (const addr of (hosts.get(target) ?? []).slice(0, 16)) {
          const ep = endpoint(addr, srv.data.port);
          entries.set(`${target}|${ep.key}`, { ep, expires: now + ttl * 1000, ttlMs: ttl * 1000 });
        }
      }
      for (const fn of this.waiters.get(name) ?? []) fn();
    }
  }

  private live(name: string): Entry[] {
    const entries = this.cache.get(name);
    if (!entries) return [];
    const now = Date.now();
    const out: Entry[] = [];
    for (const [k, e] of entries) {
      if (e.expires <= now) entries.delete(k);
      else out.push(e);
    }
    return out;
  }

  /**
   * A query on every interface; resolves after the first answer plus a short collection window.
   * Unanswered, it is sent once more (a lost packet, or a peer too busy to answer in time) before
   * the lookup gives up: two waits of queryTimeoutMs in all.
   */
  private query(name: string): Promise<void> {
    let p = this.inflight.get(name);
    if (p) return p;
    const send = () => {
      for (const { mdns } of this.sockets) {
        mdns.query({
          questions: [
            { name, type: "SRV" },
            { name: SERVICE, type: "PTR" },
          ],
        });
      }
    };
    p = new Promise<void>((resolve) => {
      let collect: ReturnType<typeof setTimeout> | null = null;
      const done = () => {
        clearTimeout(timeout);
        if (collect) clearTimeout(collect);
        this.waiters.get(name)?.delete(onAnswer);
        resolve();
      };
      const onAnswer = () => {
        collect ??= setTimeout(done, this.o.collectMs);
      };
      let timeout = setTimeout(() => {
        send();
        timeout = setTimeout(done, this.o.queryTimeoutMs);
      }, this.o.queryTimeoutMs);
      if (!this.waiters.has(name)) this.waiters.set(name, new Set());
      this.waiters.get(name)!.add(onAnswer);
      send();
    }).finally(() => this.inflight.delete(name));
    this.inflight.set(name, p);
    return p;
  }

  async resolve(ref: AppRef): Promise<readonly Endpoint[]> {
    this.start();
    const name = appName(ref);
    let entries = this.live(name);
    if (entries.length === 0) {
      const t0 = Date.now();
      await this.query(name);
      this.followUp(name);
      entries = this.live(name);
      if (entries.length === 0) {
        const others = [...this.seen.values()].filter((at) => Date.now() - at < this.o.ttlSeconds * 1000).length;
        if (others > 0) throw notFound(ref, this.name, `no instance answered for ${name}; ${others} other sidecar(s) answered on ${this.describeInterfaces()}`);
        throw invokeError(
          "resolution_timeout",
          ref.appId,
          `no instance answered within ${Date.now() - t0} ms on interfaces ${this.describeInterfaces()} (mDNS; is multicast blocked here? try the local resolver or pin an interface)`,
        );
      }
    } else if (entries.some((e) => e.expires - Date.now() < e.ttlMs / 2)) {
      void this.query(name); // background refresh before the records expire
    }
    const eps = entries.map((e) => e.ep);
    const live = this.evicted.filter(eps);
    return live.length ? live : eps;
  }

  /**
   * One more query a second after a cold lookup (RFC 6762 5.2 repeats its first queries): an
   * instance whose answer was lost, or came after the collection window, is known by then.
   */
  private followUp(name: string): void {
    if (this.followUps.has(name) || this.followUps.size >= 1024) return;
    this.followUps.add(name);
    setTimeout(() => {
      this.followUps.delete(name);
      if (this.started && this.sockets.length) void this.query(name);
    }, FOLLOW_UP_MS).unref?.();
  }

  /** Skipped at once (not at TTL expiry), for the eviction period or until it is the only one. */
  evict(_ref: AppRef, ep: Endpoint): void {
    this.evicted.add(ep);
  }

  async close(): Promise<void> {
    await this.deregister();
    for (const { mdns } of this.sockets) mdns.destroy();
    this.sockets.length = 0;
  }
}
