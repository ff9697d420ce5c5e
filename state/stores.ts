// The state stores a sidecar serves: one per `state.*` Component (redis, sqlite, in-memory), or, with
// none configured, the embedded default: a store named `statestore` in $MESHLET_HOME/state.db
// (SQLite, opened on first use) that every sidecar of the host shares across restarts, as
// `dapr init` gives Redis.

import path from "node:path";
import type { ComponentSpec } from "../config/configuration.ts";
import { ConfigError } from "../config/errors.ts";
import { parseDuration } from "../config/units.ts";
import { hostPort } from "../core/address.ts";
import type { Logger } from "../core/log.ts";
import type { Guard } from "../resiliency/component-guard.ts";
import { keyPrefixer, type NamedStore } from "./api.ts";
import { MemoryStore } from "./memory-store.ts";
import type { StateStore } from "./store.ts";

export const DEFAULT_STORE = "statestore";

export interface OpenedStores {
  readonly stores: ReadonlyMap<string, NamedStore>;
  /** Dapr's capability names per store, for the metadata API. */
  readonly capabilities: ReadonlyMap<string, readonly string[]>;
  /** What each store was opened from (type, version, resolved metadata): equal means "the same store". */
  readonly fingerprints: ReadonlyMap<string, string>;
  /** Closes every store except those in `keep` (carried into a reloaded set). */
  close(keep?: ReadonlySet<StateStore>): Promise<void>;
}

export interface StoreOptions {
  readonly appId: string;
  readonly namespace: string;
  readonly home: string;
  readonly log: Logger;
  /** The guard of a store's operations (its resiliency policy, looked up when it runs). */
  readonly guardFor: (name: string, type: string) => Guard;
  /** The set in force, on a reload: a store whose component did not change is kept, open, as it is. */
  readonly previous?: OpenedStores | null;
}

const DEFAULT_FINGERPRINT = "default";

function fingerprint(c: ComponentSpec): string {
  return JSON.stringify([c.type, c.version, c.metadata]);
}

/** `connectionString`: a path, or a `file:` URL (its query, Dapr's pragmas, is ignored). */
function sqliteFile(conn: string, home: string): string {
  const s = conn.startsWith("file:") ? conn.slice(5).split("?")[0]! : conn;
  return s === "" ? path.join(home, "state.db") : path.resolve(home, s);
}

function ms(value: string | undefined, fallback: number, what: string, at: string): number {
  if (value === undefined || value === "") return fallback;
  try {
    return /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  } catch {
    throw new ConfigError(`${at}: ${what} "${value}" is not a duration such as 20s`);
  }
}

async function openSqlite(file: string, m: Readonly<Record<string, string>>, at: string): Promise<StateStore> {
  const { SqliteStore } = await import("./sqlite-store.ts");
  return SqliteStore.open({
    file,
    tableName: m.tableName || undefined,
    timeoutMs: ms(m.timeout, 20_000, "timeout", at),
    cleanupIntervalMs: ms(m.cleanupInterval ?? m.cleanupIntervalInSeconds, 3_600_000, "cleanupInterval", at),
  });
}

/**
 * Dapr's state.redis metadata: redisHost (required), redisPassword, redisUsername, enableTLS,
 * redisDB, ttlInSeconds, clientCert and clientKey; and meshlet's caCert (PEM) for a server whose
 * certificate a private CA signed. TLS always verifies the server (daprd skips verification).
 */
async function openRedis(c: ComponentSpec): Promise<StateStore> {
  const m = c.metadata;
  if (!m.redisHost) throw new ConfigError(`${c.at}: component ${c.name}: state.redis needs the redisHost metadata (host:port)`);
  const db = m.redisDB ? Number(m.redisDB) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ConfigError(`${c.at}: component ${c.name}: redisDB "${m.redisDB}" is not a database number`);
  const ttl = m.ttlInSeconds ? Number(m.ttlInSeconds) : null;
  if (ttl !== null && !Number.isInteger(ttl)) throw new ConfigError(`${c.at}: component ${c.name}: ttlInSeconds "${m.ttlInSeconds}" is not a whole number`);
  try {
    hostPort(m.redisHost, 6379);
  } catch (e) {
    throw new ConfigError(`${c.at}: component ${c.name}: redisHost: ${(e as Error).message}`);
  }
  const tls = (m.enableTLS ?? "false").toLowerCase();
  if (tls !== "true" && tls !== "false") throw new ConfigError(`${c.at}: component ${c.name}: enableTLS "${m.enableTLS}" is not true or false`);
  if (Boolean(m.clientCert) !== Boolean(m.clientKey)) throw new ConfigError(`${c.at}: component ${c.name}: clientCert and clientKey go together`);
  if (tls === "false" && (m.caCert || m.clientCert)) throw new ConfigError(`${c.at}: component ${c.name}: caCert, clientCert and clientKey need enableTLS: "true"`);
  const { RedisStore } = await import("./redis-store.ts");
  return RedisStore.open({
    host: m.redisHost,
    password: m.redisPassword,
    username: m.redisUsername,
    db,
    tls: tls === "true",
    caPem: m.caCert,
    clientCertPem: m.clientCert,
    clientKeyPem: m.clientKey,
    defaultTtlSeconds: ttl,
  });
}

/**
 * The embedded default, opened on its first use: a sidecar that never touches state pays no
 * SQLite module, file or memory. A file that cannot be opened fails the call that needed it (500
 * with the cause), and the next call tries again.
 */
function lazyDefault(file: string): StateStore {
  let opened: Promise<StateStore> | null = null;
  const store = () =>
    (opened ??= openSqlite(file, {}, "default store").catch((e: Error) => {
      opened = null;
      throw e;
    }));
  return {
    type: "state.sqlite",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    get: async (key) => (await store()).get(key),
    set: async (req) => (await store()).set(req),
    delete: async (req) => (await store()).delete(req),
    transact: async (ops) => (await store()).transact(ops),
    close: async () => {
      if (opened) await (await opened).close();
    },
  };
}

/**
 * Opens every state component for this app; a store that fails to open stops the start (or the
 * reload) unless the component says ignoreErrors. Stores opened here are closed again on failure;
 * stores carried over from `previous` are not.
 */
export async function openStores(components: readonly ComponentSpec[], o: StoreOptions): Promise<OpenedStores> {
  const stores = new Map<string, NamedStore>();
  const fingerprints = new Map<string, string>();
  const opened: StateStore[] = [];
  const add = (name: string, type: string, store: StateStore, print: string, keyPrefix = "") => {
    stores.set(name, { name, store, prefixed: keyPrefixer(keyPrefix, name, o.appId, o.namespace), guard: o.guardFor(name, type) });
    fingerprints.set(name, print);
  };
  /** Keeps the store in force under this name when it was opened from the same settings; false when there is none. */
  const carry = (name: string, print: string): boolean => {
    const same = o.previous?.fingerprints.get(name) === print ? o.previous.stores.get(name) : undefined;
    if (!same) return false;
    stores.set(name, same);
    fingerprints.set(name, print);
    return true;
  };
  const state = components.filter((c) => c.type.startsWith("state."));
  try {
    for (const c of state) {
      const print = fingerprint(c);
      if (carry(c.name, print)) continue;
      try {
        let store: StateStore;
        if (c.type === "state.in-memory") store = new MemoryStore();
        else if (c.type === "state.sqlite") store = await openSqlite(sqliteFile(c.metadata.connectionString ?? "", o.home), c.metadata, c.at);
        else if (c.type === "state.redis") store = await openRedis(c);
        else throw new ConfigError(`${c.at}: component ${c.name}: type ${c.type} is not supported by meshlet yet (state.redis, state.sqlite, state.in-memory)`);
        opened.push(store);
        add(c.name, c.type, store, print, c.metadata.keyPrefix);
      } catch (e) {
        // A store that cannot open (Redis unreachable, a locked file) is one line naming the component.
        if (!c.ignoreErrors) throw e instanceof ConfigError ? e : new ConfigError(`${c.at}: component ${c.name}: ${(e as Error).message}`);
        o.log.warn("state store not loaded (ignoreErrors: true)", { component: c.name, error: (e as Error).message });
      }
    }
    if (state.length === 0 && !carry(DEFAULT_STORE, DEFAULT_FINGERPRINT)) {
      let store: StateStore;
      if (typeof Bun !== "undefined") store = lazyDefault(path.join(o.home, "state.db"));
      else {
        // Node 20 has no bundled SQLite: the default is per sidecar and lost on stop; say so.
        o.log.warn("the default state store is in memory under Node (not shared, lost on stop)", { store: DEFAULT_STORE });
        store = new MemoryStore();
      }
      opened.push(store);
      add(DEFAULT_STORE, store.type, store, DEFAULT_FINGERPRINT);
    }
  } catch (e) {
    await Promise.all(opened.map((s) => s.close().catch(() => {})));
    throw e;
  }
  const capabilities = new Map([...stores].map(([n, s]) => [n, s.store.features] as const));
  return {
    stores,
    capabilities,
    fingerprints,
    close: async (keep) => void (await Promise.all([...stores.values()].filter((s) => !keep?.has(s.store)).map((s) => s.store.close().catch(() => {})))),
  };
}
