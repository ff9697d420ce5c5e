// Dapr's state HTTP API on the sidecar port: save, get, delete, bulk get and transactions over the
// configured stores, with Dapr's statuses, error codes and key prefixes. Bodies are read within
// --max-body-size; store errors are typed (store.ts) and mapped to Dapr's answers here.

import { SidecarError } from "../core/errors.ts";
import { type Incoming, readBody } from "../core/incoming.ts";
import { textResponse, WireResponse } from "../core/wire-response.ts";
import { HeaderList } from "../core/header-list.ts";
import { tooLarge } from "../proxy/body-limit.ts";
import type { Route } from "../proxy/route.ts";
import type { Guard } from "../resiliency/component-guard.ts";
import { EtagMismatch, type Concurrency, type SetRequest, type StateStore, type TransactionOp } from "./store.ts";

/** A store as the API uses it: the store and how its keys are prefixed. */
export interface NamedStore {
  readonly name: string;
  readonly store: StateStore;
  /** `key` as stored (keyPrefix: appid, name, namespace, none, or a custom prefix). */
  readonly prefixed: (key: string) => string;
  /** Runs one store operation under the component's resiliency policy in force. */
  readonly guard: Guard;
}

export interface StateDeps {
  /** The state stores in force by component name (empty: none configured); a component reload swaps them. */
  readonly stores: () => ReadonlyMap<string, NamedStore>;
  readonly appId: string;
  readonly maxBodySize: number;
}

type StateRoute = Extract<Route, { kind: "state" }>;

/** The key prefix rule of Dapr's `keyPrefix` metadata. */
export function keyPrefixer(rule: string, store: string, appId: string, namespace: string): (key: string) => string {
  switch (rule.toLowerCase()) {
    case "":
    case "appid":
      return (k) => `${appId}||${k}`;
    case "name":
      return (k) => `${store}||${k}`;
    case "namespace":
      return (k) => `${namespace}.${appId}||${k}`;
    case "none":
      return (k) => k;
    default:
      return (k) => `${rule}||${k}`;
  }
}

const NO_CONTENT = () => new WireResponse(null, { status: 204 }, new HeaderList());
const json = (text: string, headers: Record<string, string> = {}) => textResponse(text, { headers: { "content-type": "application/json", ...headers } });
const utf8 = new TextEncoder();

function malformed(message: string): SidecarError {
  return new SidecarError("malformed_request", message);
}

function checkKey(key: unknown): string {
  if (typeof key !== "string" || key === "") throw malformed("a state item needs a non-empty string key");
  if (key.includes("||")) throw new SidecarError("state_illegal_key", `input key/keyPrefix '${key}' can't contain '||'`);
  return key;
}

function storeFor(d: StateDeps, name: string): NamedStore {
  const stores = d.stores();
  if (stores.size === 0) throw new SidecarError("state_store_not_configured", "state store is not configured");
  const s = stores.get(name);
  if (!s) {
    throw new SidecarError("state_store_not_found", `state store ${name} is not found`, {
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", domain: "dapr.io", reason: "DAPR_STATE_NOT_FOUND", metadata: { appID: d.appId } }],
    });
  }
  return s;
}

async function jsonBody(req: Incoming, max: number): Promise<unknown> {
  const bytes = await readBody(req, max, () => tooLarge(max));
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw malformed(`failed deserializing HTTP body: ${(e as Error).message}`);
  }
}

/** `metadata.<k>=<v>` query parameters. */
function queryMetadata(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) if (k.startsWith("metadata.")) out[k.slice(9)] = v;
  return out;
}

function concurrencyOf(v: unknown): Concurrency | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (v === "first-write" || v === "last-write") return v;
  throw malformed(`unknown concurrency "${String(v)}" (first-write or last-write)`);
}

function ttlOf(meta: Record<string, unknown> | undefined): number | null {
  const raw = meta?.ttlInSeconds;
  if (raw === undefined || raw === null || raw === "") return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -1) throw malformed(`ttlInSeconds must be a whole number of seconds or -1, not "${String(raw)}"`);
  return n;
}

/** One save/upsert item of Dapr's JSON as a store request. */
function setRequest(item: unknown, s: NamedStore, fallbackMeta: Record<string, string>): SetRequest {
  if (item === null || typeof item !== "object" || Array.isArray(item)) throw malformed("each state item must be an object with key and value");
  const it = item as { key?: unknown; value?: unknown; etag?: unknown; metadata?: Record<string, unknown>; options?: { concurrency?: unknown } };
  const key = checkKey(it.key);
  if (it.etag !== undefined && it.etag !== null && typeof it.etag !== "string") throw malformed(`etag of ${key} must be a string`);
  const value = it.value === undefined ? "null" : JSON.stringify(it.value);
  return {
    key: s.prefixed(key),
    value: utf8.encode(value),
    etag: (it.etag as string | null | undefined) ?? null,
    concurrency: concurrencyOf(it.options?.concurrency),
    ttlSeconds: ttlOf(it.metadata ?? fallbackMeta),
  };
}

async function save(r: StateRoute, req: Incoming, d: StateDeps): Promise<Response> {
  const s = storeFor(d, r.store);
  const body = await jsonBody(req, d.maxBodySize);
  if (!Array.isArray(body)) throw malformed("the body must be a JSON array of state items");
  const meta = queryMetadata(r.query);
  const items = body.map((it) => setRequest(it, s, meta));
  for (const item of items) {
    try {
      await s.guard(() => s.store.set(item), req.signal);
    } catch (e) {
      const conflict = e instanceof EtagMismatch;
      throw new SidecarError(conflict ? "state_save_conflict" : "state_save", `failed saving state in state store ${r.store}: ${(e as Error).message}`, { cause: e });
    }
  }
  return NO_CONTENT();
}

async function get(r: StateRoute, req: Incoming, d: StateDeps): Promise<Response> {
  const s = storeFor(d, r.store);
  const key = checkKey(r.key);
  let got;
  try {
    got = await s.guard(() => s.store.get(s.prefixed(key)), req.signal);
  } catch (e) {
    throw new SidecarError("state_get", `fail to get ${key} from state store ${r.store}: ${(e as Error).message}`, { cause: e });
  }
  if (!got) return NO_CONTENT();
  return new WireResponse(got.data as Uint8Array<ArrayBuffer>, { status: 200 }, HeaderList.of({ "content-type": "application/json", etag: got.etag }));
}

async function remove(r: StateRoute, req: Incoming, d: StateDeps): Promise<Response> {
  const s = storeFor(d, r.store);
  const key = checkKey(r.key);
  const q = new URLSearchParams(r.query);
  try {
    const del = { key: s.prefixed(key), etag: req.headers.get("if-match"), concurrency: concurrencyOf(q.get("concurrency")) };
    await s.guard(() => s.store.delete(del), req.signal);
  } catch (e) {
    if (e instanceof SidecarError) throw e;
    const conflict = e instanceof EtagMismatch;
    throw new SidecarError(conflict ? "state_delete_conflict" : "state_delete", `failed deleting state with key ${key}: ${(e as Error).message}`, { cause: e });
  }
  return NO_CONTENT();
}

/** Stored bytes as a JSON value: as they are when they are JSON (what the API saves), else as a string. */
function asJson(data: Uint8Array): string {
  const text = new TextDecoder().decode(data);
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

async function bulk(r: StateRoute, req: Incoming, d: StateDeps): Promise<Response> {
  const s = storeFor(d, r.store);
  const body = (await jsonBody(req, d.maxBodySize)) as { keys?: unknown } | null;
  if (!body || typeof body !== "object" || !Array.isArray(body.keys)) throw malformed('the body must be {"keys": [...]}');
  const keys = body.keys.map(checkKey);
  const out: string[] = [];
  for (const key of keys) {
    try {
      const got = await s.guard(() => s.store.get(s.prefixed(key)), req.signal);
      out.push(got ? `{"key":${JSON.stringify(key)},"data":${asJson(got.data)},"etag":${JSON.stringify(got.etag)}}` : `{"key":${JSON.stringify(key)}}`);
    } catch (e) {
      // One key's failure does not fail the call, as in Dapr.
      out.push(JSON.stringify({ key, error: (e as Error).message }));
    }
  }
  return json(`[${out.join(",")}]`);
}

async function transaction(r: StateRoute, req: Incoming, d: StateDeps): Promise<Response> {
  const s = storeFor(d, r.store);
  const body = (await jsonBody(req, d.maxBodySize)) as { operations?: unknown } | null;
  if (!body || typeof body !== "object" || !Array.isArray(body.operations)) throw malformed('the body must be {"operations": [...]}');
  const meta = queryMetadata(r.query);
  const ops: TransactionOp[] = body.operations.map((o: unknown) => {
    const op = o as { operation?: unknown; request?: unknown } | null;
    if (!op || typeof op !== "object") throw malformed("each operation must be an object with operation and request");
    if (op.operation === "upsert") return { op: "upsert", req: setRequest(op.request, s, meta) };
    if (op.operation === "delete") {
      const q = (op.request ?? {}) as { key?: unknown; etag?: unknown; options?: { concurrency?: unknown } };
      if (q.etag !== undefined && q.etag !== null && typeof q.etag !== "string") throw malformed("etag must be a string");
      return { op: "delete", req: { key: s.prefixed(checkKey(q.key)), etag: (q.etag as string | null | undefined) ?? null, concurrency: concurrencyOf(q.options?.concurrency) } };
    }
    throw malformed(`operation type ${JSON.stringify(op.operation)} not supported`);
  });
  try {
    await s.guard(() => s.store.transact(ops), req.signal);
  } catch (e) {
    throw new SidecarError("state_transaction", `error while executing state transaction: ${(e as Error).message}`, { cause: e });
  }
  return NO_CONTENT();
}

export function stateEndpoint(r: StateRoute, req: Incoming, d: StateDeps): Promise<Response> {
  switch (r.op) {
    case "save":
      return save(r, req, d);
    case "get":
      return get(r, req, d);
    case "delete":
      return remove(r, req, d);
    case "bulk":
      return bulk(r, req, d);
    case "transaction":
      return transaction(r, req, d);
  }
}
