// state.sqlite on bun:sqlite: one table in a file every sidecar of the host opens (WAL; a lock
// held by another process is waited for off the event loop), ETags random per write, TTL as an
// expiry time checked on read and swept every cleanupInterval, transactions as one BEGIN
// IMMEDIATE. Dapr's component metadata: connectionString, tableName, timeout, cleanupInterval.

import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Database } from "bun:sqlite";
import { sleep, systemClock, type Clock } from "../core/clock.ts";
import { EtagMismatch, mayDelete, mayWrite, type DeleteRequest, type SetRequest, type StateStore, type StoredItem, type TransactionOp } from "./store.ts";

export interface SqliteOptions {
  readonly file: string;
  readonly tableName?: string;
  /** Longest wait for another process's write lock (ms). */
  readonly timeoutMs?: number;
  /** How often expired rows are deleted (ms); 0 turns the sweep off. */
  readonly cleanupIntervalMs?: number;
  readonly now?: () => number;
  /** Waits between tries while another process holds the lock. */
  readonly clock?: Clock;
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
    /** Runs a statement, waiting (off the event loop) while another process holds the lock. */
    private readonly locked: LockWait,
  ) {
    this.now = o.now ?? Date.now;
    const t = `"${table}"`;
    this.sql = {
      get: db.query(`SELECT value, etag, expires FROM ${t} WHERE key = ?`),
      put: db.query(`INSERT INTO ${t} (key, value, etag, expires) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires = excluded.expires`),
      del: db.query(`DELETE FROM ${t} WHERE key = ?`),
      sweep: db.query(`DELETE FROM ${t} WHERE expires IS NOT NULL AND expires <= ?`),
    };
    const every = o.cleanupIntervalMs ?? 3_600_000;
    // A sweep that finds the file locked is skipped: the next one deletes those rows.
    this.sweeper = every > 0 ? setInterval(() => void this.locked(() => this.sql.sweep.run(this.now())).catch(() => {}), every) : null;
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
      // bun:sqlite is synchronous: its own busy timeout would stall every call of the sidecar
      // while another process writes, so it is off and `lockWait` sleeps between tries instead.
      db.run("PRAGMA busy_timeout = 0");
      const open = db;
      const locked = lockWait(o);
      await locked(() => {
        open.run("PRAGMA journal_mode = WAL");
        open.run(`CREATE TABLE IF NOT EXISTS "${table}" (key TEXT NOT NULL PRIMARY KEY, value BLOB NOT NULL, etag TEXT NOT NULL, expires INTEGER)`);
      });
      return new SqliteStore(db, table, o, locked);
    } catch (e) {
      db?.close();
      throw new Error(`cannot open the SQLite state store at ${o.file}: ${(e as Error).message}${unwritable(o.file)}`);
    }
  }

  private row(key: string): Row | null {
    const r = this.sql.get.get(key) as Row | null;
    if (!r) return null;
    return r.expires !== null && r.expires <= this.now() ? null : r;
  }

  async get(key: string): Promise<StoredItem | null> {
    const r = await this.locked(() => this.row(key));
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
    await this.locked(() => this.db.transaction(() => this.write(req)).immediate());
  }

  async delete(req: DeleteRequest): Promise<void> {
    await this.locked(() => this.db.transaction(() => this.remove(req)).immediate());
  }

  async transact(ops: readonly TransactionOp[]): Promise<void> {
    await this.locked(() =>
      this.db.transaction(() => {
        for (const o of ops) {
          if (o.op === "upsert") this.write(o.req);
          else this.remove(o.req);
        }
      }).immediate(),
    );
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.db.close();
  }
}

type LockWait = <T>(op: () => T) => Promise<T>;

/**
 * Runs `op`, and while SQLite answers SQLITE_BUSY (another process holds the lock) tries again
 * after 1, 2, 4 ... 50 ms on the clock, so the event loop serves other calls meanwhile; after the
 * component's timeout the call fails saying the file is locked.
 */
function lockWait(o: SqliteOptions): LockWait {
  const clock = o.clock ?? systemClock;
  const timeoutMs = Math.max(0, Math.floor(o.timeoutMs ?? 20_000));
  return async (op) => {
    let deadline = -1;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        return op();
      } catch (e) {
        if (((e as { errno?: number }).errno ?? 0) % 256 !== SQLITE_BUSY) throw e;
        if (deadline < 0) deadline = clock.now() + timeoutMs;
        if (clock.now() >= deadline) throw new Error(`the database file is locked by another process; waited ${timeoutMs} ms (the component's timeout)`);
      }
      await sleep(clock, wait);
    }
  };
}

const SQLITE_BUSY = 5;

/** Why a file that failed to open cannot be written, when that is the cause (read-only volume, permissions). */
function unwritable(file: string): string {
  const target = fs.existsSync(file) ? file : path.dirname(file);
  try {
    fs.accessSync(target, fs.constants.W_OK);
    return "";
  } catch (e) {
    return ` (${target} is not writable: ${(e as NodeJS.ErrnoException).code === "EROFS" ? "read-only file system" : (e as Error).message})`;
  }
}
