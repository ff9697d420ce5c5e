// A fixed map of app-id to addresses, for edge boxes without discovery: given inline in the
// Configuration's nameResolution block or in its own YAML file. It never registers anything.

import fs from "node:fs";
import YAML from "yaml";
import { endpoint, type Endpoint } from "../core/call.ts";
import { hostPort } from "../core/address.ts";
import { Evictions } from "./evictions.ts";
import { type AppRef, notFound, type Resolver } from "./types.ts";

export type StaticMap = Record<string, readonly string[]>;

/** `host:port`, `[v6]:port`; throws with the offending value otherwise. */
export function parseAddress(s: string): Endpoint {
  const { host, port } = hostPort(s);
  return endpoint(host, port);
}

/**
 * Accepts `{ apps: { <id>: [addr...] } }` or `{ file: path }` pointing at a YAML map with the same
 * shape; keys may be `id` (default namespace) or `id.namespace`.
 */
export function loadStaticMap(config: Record<string, unknown>): Map<string, Endpoint[]> {
  let apps = config.apps as unknown;
  if (typeof config.file === "string") {
    const doc = YAML.parse(fs.readFileSync(config.file, "utf8")) as Record<string, unknown> | null;
    apps = doc && typeof doc === "object" && "apps" in doc ? doc.apps : doc;
  }
  if (!apps || typeof apps !== "object") throw new Error("static resolver: configuration needs `apps` (a map of app-id to addresses) or `file`");
  const out = new Map<string, Endpoint[]>();
  for (const [id, addrs] of Object.entries(apps as Record<string, unknown>)) {
    const list = typeof addrs === "string" ? [addrs] : addrs;
    if (!Array.isArray(list)) throw new Error(`static resolver: app ${id} needs a list of addresses`);
    const key = id.includes(".") ? id : `${id}.default`;
    out.set(key, list.map((a) => parseAddress(String(a))));
  }
  return out;
}

export class StaticResolver implements Resolver {
  readonly name = "static";
  private readonly evicted: Evictions;
  constructor(
    private readonly map: Map<string, Endpoint[]>,
    opts: { evictMs?: number; now?: () => number } = {},
  ) {
    this.evicted = new Evictions(opts.evictMs ?? 5_000, opts.now);
  }

  peek(ref: AppRef): readonly Endpoint[] | null {
    const eps = this.map.get(`${ref.appId}.${ref.namespace}`);
    if (!eps || eps.length === 0) return null;
    const live = this.evicted.filter(eps);
    return live.length ? live : eps;
  }

  async resolve(ref: AppRef): Promise<readonly Endpoint[]> {
    const eps = this.map.get(`${ref.appId}.${ref.namespace}`);
    if (!eps || eps.length === 0) throw notFound(ref, this.name, "not in the static map");
    const live = this.evicted.filter(eps);
    // Every address failed recently: try them anyway rather than refuse (there is no other source).
    return live.length ? live : eps;
  }
  evict(_ref: AppRef, ep: Endpoint): void {
    this.evicted.add(ep);
  }
  async register(): Promise<void> {}
  async deregister(): Promise<void> {}
  async close(): Promise<void> {}
}
