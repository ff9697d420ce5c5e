// The contract every state store implements (in-memory, SQLite, Redis next): one key's get, set
// and delete with ETag concurrency and TTL, and all-or-nothing transactions. Stores know nothing
// of HTTP; the state API (state/api.ts) maps their typed errors to Dapr's answers.

export type Concurrency = "first-write" | "last-write";

export interface StoredItem {
  /** The value as saved: the raw JSON bytes of the request's `value`. */
  readonly data: Uint8Array;
  readonly etag: string;
}

export interface SetRequest {
  /** The key as stored, prefix included (`<app-id>||<key>` by default). */
  readonly key: string;
  readonly value: Uint8Array;
  /** Must match the stored ETag when given; a missing key matches no ETag. */
  readonly etag?: string | null;
  /** first-write without an ETag saves only a key that does not exist yet. */
  readonly concurrency?: Concurrency;
  /** Seconds until the key expires; -1 or absent: never. */
  readonly ttlSeconds?: number | null;
}

export interface DeleteRequest {
  readonly key: string;
  readonly etag?: string | null;
  readonly concurrency?: Concurrency;
}

export type TransactionOp = { readonly op: "upsert"; readonly req: SetRequest } | { readonly op: "delete"; readonly req: DeleteRequest };

/** The ETag given does not match the stored one (or the key is missing): Dapr's 409. */
export class EtagMismatch extends Error {
  constructor(key: string) {
    super(`possible etag mismatch. error from state store: ETag does not match for key ${key}`);
  }
}

/** The ETag given cannot be one this store makes: Dapr's 400. */
export class EtagInvalid extends Error {
  constructor(etag: string) {
    super(`invalid etag value: ${etag}`);
  }
}

/** Dapr's feature names, listed by the metadata API. */
export type StoreFeature = "ETAG" | "TRANSACTIONAL" | "TTL";

export interface StateStore {
  /** The component type (`state.in-memory`, `state.sqlite`). */
  readonly type: string;
  readonly features: readonly StoreFeature[];
  get(key: string): Promise<StoredItem | null>;
  set(req: SetRequest): Promise<void>;
  delete(req: DeleteRequest): Promise<void>;
  /** Every operation or none: the first that fails (an ETag mismatch) leaves nothing written. */
  transact(ops: readonly TransactionOp[]): Promise<void>;
  close(): Promise<void>;
}

/** Whether `req` may replace `current` (null: missing), by Dapr's concurrency rules. */
export function mayWrite(current: { etag: string } | null, etag: string | null | undefined, concurrency: Concurrency | undefined): boolean {
  if (etag !== undefined && etag !== null && etag !== "") return current !== null && current.etag === etag;
  if (concurrency === "first-write") return current === null;
  return true;
}

/** Whether a delete may remove `current` (null: missing): an ETag given must match; without one, always. */
export function mayDelete(current: { etag: string } | null, etag: string | null | undefined): boolean {
  return etag === undefined || etag === null || etag === "" || (current !== null && current.etag === etag);
}
