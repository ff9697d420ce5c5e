// state.sqlite on bun:sqlite: one table in a file every sidecar of the host opens (WAL, a busy
// timeout), ETags random per write, TTL as an expiry time checked on read and swept every
// cleanupInterval, transactions as one BEGIN IMMEDIATE. Dapr's component metadata:
// connectionString (a file path or file: URL), tableName, timeout, cleanupInterval.

import { randomUUID } from "node:crypto";
import type { Database } from "bun:sqlite";
import { EtagMismatch, mayDelete, mayWrite, type DeleteRequest, type SetRequest, type StateStore, type StoredItem, type TransactionOp } from "./store.ts";

export interface SqliteOptions {
  readonly file: string;
  readonly tableName?: string;
  /** Longest wait for another process's write lock (ms). */
  readonly timeoutMs?: number;
  /** How often expired rows are deleted (ms); 0 turns the sweep off. */
  readonly cleanupIntervalMs?: number;
  readonly now?: () => number;
}

type Row = { value: Uint8Array; etag: string; expires: number | null };

export class SqliteStore implements StateStore {
  readonly type = "state.sqlite";
  readonly features = ["ETAG", "TRANSACTIONAL", "TTL"] as const;
  private readonly now: () => number;
  private readonly sweeper: ReturnType<typeof setInterval> | null;
  private readonly sql: {
    get: ReturnType<Database["query"]>;
    put: ReturnType<Database["query"]>;
    del: ReturnType<Database["query"]>;
    sweep: ReturnType<Database["query"]>;
  };

  private constructor(
    private readonly db: Database,
    table: string,
    o: SqliteOptions,
  ) {
    this.now = o.now ?? Date.now;
    const t = `"${table}"`;
    db.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(o.timeoutMs ?? 20_000))}`);
    db.run("PRAGMA journal_mode = WAL");
    db.run(`CREATE TABLE IF NOT EXISTS ${t} (key TEXT NOT NULL PRIMARY KEY, value BLOB NOT NULL, etag TEXT NOT NULL, expires INTEGER)`);
    this.sql = {
      get: db.query(`SELECT value, etag, expires FROM ${t} WHERE key = ?`),
      put: db.query(`INSERT INTO ${t} (key, value, etag, expires) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires = excluded.expires`),
      del: db.query(`DELETE FROM ${t} WHERE key = ?`),
      sweep: db.query(`DELETE FROM ${t} WHERE expires IS NOT NULL AND expires <= ?`),
    };
    const every = o.cleanupIntervalMs ?? 3_600_000;
    this.sweeper = every > 0 ? setInterval(() => this.sql.sweep.run(this.now()), every) : null;
    this.sweeper?.unref?.();
  }

  /** Opens (creating) the database file; a locked, read-only or corrupt file is a clear error here. */
  static async open(o: SqliteOptions): Promise<SqliteStore> {
    const table = o.tableName ?? "state";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`tableName "${table}" is not a plain SQL name`);
    const { Database } = await import("bun:sqlite");
    let db: Database | null = null;
    try {
      db = new Database(o.file, { create: true });
      return new SqliteStore(db, table, o);
    } catch (e) {
      db?.close();
      throw new Error(`cannot open the SQLite state store at ${o.file}: ${(e as Error).message}`);
    }
  }

  private row(key: string): Row | null {
    const r = this.sql.get.get(key) as Row | null;
    if (!r) return null;
    return r.expires !== null && r.expires <= this.now() ? null : r;
  }

  async get(key: string): Promise<StoredItem | null> {
    const r = this.row(key);
    return r ? { data: new Uint8Array(r.value), etag: r.etag } : null;
  }

  private write(req: SetRequest): void {
    if (!mayWrite(this.row(req.key), req.etag, req.concurrency)) throw new EtagMismatch(req.key);
    const ttl = req.ttlSeconds ?? -1;
    this.sql.put.run(req.key, req.value, randomUUID(), ttl > 0 ? this.now() + ttl * 1000 : null);
  }

  private remove(req: DeleteRequest): void {
    if (!mayDelete(this.row(req.key), req.etag)) throw new EtagMismatch(req.key);
    this.sql.del.run(req.key);
  }

  async set(req: SetRequest): Promise<void> {
    // The check and the write in one transaction: another sidecar cannot write in between.
    this.db.transaction(() => this.write(req)).immediate();
  }

  async delete(req: DeleteRequest): Promise<void> {
    this.db.transaction(() => this.remove(req)).immediate();
  }

  async transact(ops: readonly TransactionOp[]): Promise<void> {
    this.db.transaction(() => {
      for (const o of ops) {
        if (o.op === "upsert") this.write(o.req);
        else this.remove(o.req);
      }
    }).immediate();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.db.close();
  }
}
