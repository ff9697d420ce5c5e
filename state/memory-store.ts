// state.in-memory: Dapr's per-sidecar store for tests and throwaway runs: ETags (a version per
// key), TTL on the injected clock, transactions applied only once every operation passed its
// checks. Lost when the sidecar stops.

import { EtagMismatch, mayDelete, mayWrite, type DeleteRequest, type SetRequest, type StateStore, type StoredItem, type TransactionOp } from "./store.ts";

interface Entry {
  data: Uint8Array;
  version: number;
  /** Epoch ms, or Infinity. */
  expires: number;
}

export class MemoryStore implements StateStore {
  readonly type = "state.in-memory";
  readonly features = ["ETAG", "TRANSACTIONAL", "TTL"] as const;
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  private live(key: string): Entry | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return e;
  }

  async get(key: string): Promise<StoredItem | null> {
    const e = this.live(key);
    return e ? { data: e.data, etag: String(e.version) } : null;
  }

  /** The entry `req` would leave, or throws; nothing is written. */
  private staged(view: (key: string) => Entry | null, req: SetRequest): Entry {
    const cur = view(req.key);
    if (!mayWrite(cur && { etag: String(cur.version) }, req.etag, req.concurrency)) throw new EtagMismatch(req.key);
    const ttl = req.ttlSeconds ?? -1;
    return { data: req.value, version: (cur?.version ?? 0) + 1, expires: ttl > 0 ? this.now() + ttl * 1000 : Infinity };
  }

  private checkDelete(view: (key: string) => Entry | null, req: DeleteRequest): void {
    const cur = view(req.key);
    if (!mayDelete(cur && { etag: String(cur.version) }, req.etag)) throw new EtagMismatch(req.key);
  }

  async set(req: SetRequest): Promise<void> {
    this.entries.set(req.key, this.staged((k) => this.live(k), req));
  }

  async delete(req: DeleteRequest): Promise<void> {
    this.checkDelete((k) => this.live(k), req);
    this.entries.delete(req.key);
  }

  async transact(ops: readonly TransactionOp[]): Promise<void> {
    // Checked against a view that already holds the earlier operations, then applied at once.
    const changes = new Map<string, Entry | null>();
    const view = (k: string) => (changes.has(k) ? changes.get(k)! : this.live(k));
    for (const o of ops) {
      if (o.op === "upsert") changes.set(o.req.key, this.staged(view, o.req));
      else {
        this.checkDelete(view, o.req);
        changes.set(o.req.key, null);
      }
    }
    for (const [k, e] of changes) {
      if (e) this.entries.set(k, e);
      else this.entries.delete(k);
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
