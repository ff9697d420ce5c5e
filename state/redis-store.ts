// state.redis in Dapr's layout, so daprd and meshlet read each other's data: a hash per key with
// `data` (the value's bytes) and `version` (HINCRBY, the ETag, "1" first), `first-write` set by a
// first-write save, TTL by EXPIRE. Writes go through one Lua script that checks every operation
// before it applies any, so a transaction is all or nothing. Client: @redis/client (node-redis).

import { createClient, RESP_TYPES } from "@redis/client";
import { hostPort } from "../core/address.ts";
import { EtagInvalid, EtagMismatch, type DeleteRequest, type SetRequest, type StateStore, type StoredItem, type TransactionOp } from "./store.ts";

export interface RedisOptions {
  /** host:port */
  readonly host: string;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  /** enableTLS: the server's certificate is verified against the system's CAs, or `caPem` when given. */
  readonly tls?: boolean;
  /** PEM CA bundle that signed the server's certificate (meshlet's `caCert` metadata). */
  readonly caPem?: string;
  /** PEM client certificate and key, for servers that require them (Dapr's clientCert, clientKey). */
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** Component-wide TTL (ttlInSeconds metadata) for saves that name none. */
  readonly defaultTtlSeconds?: number | null;
}

/**
 * ARGV per operation: kind (s = set, d = delete), ETag ("" = none), first-write ("1"/"0"), data,
 * TTL seconds ("" = none, "-1" = persist). Checks run against the state as the earlier operations
 * of the same script leave it; nothing is written unless every check passed.
 */
const WRITE_SCRIPT = `
local seen = {}
local function version(k)
  if seen[k] == nil then
    local v = redis.call("HGET", k, "version")
    seen[k] = v or false
  end
  return seen[k]
end
for i = 1, #KEYS do
  local k, b = KEYS[i], (i - 1) * 5
  local kind, etag, fw = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local v = version(k)
  if etag ~= "" then
    if not v or v ~= etag then return redis.error_reply("ETAG_MISMATCH " .. k) end
  elseif kind == "s" and fw == "1" and v then
    return redis.error_reply("ETAG_MISMATCH " .. k)
  end
  if kind == "s" then seen[k] = tostring((tonumber(v) or 0) + 1) else seen[k] = false end
end
for i = 1, #KEYS do
  local k, b = KEYS[i], (i - 1) * 5
  if ARGV[b + 1] == "s" then
    redis.call("HSET", k, "data", ARGV[b + 4])
    redis.call("HINCRBY", k, "version", 1)
    if ARGV[b + 3] == "1" then redis.call("HSET", k, "first-write", 0) end
    local ttl = ARGV[b + 5]
    if ttl == "-1" then redis.call("PERSIST", k) elseif ttl ~= "" then redis.call("EXPIRE", k, tonumber(ttl)) end
  else
    redis.call("DEL", k)
  end
end
return #KEYS
`;

type Client = ReturnType<typeof connect>;

function connect(o: RedisOptions, everConnected: () => boolean) {
  const { host, port } = hostPort(o.host, 6379);
  return createClient({
    socket: {
      host,
      port,
      tls: o.tls === true ? true : undefined,
      ...(o.tls === true ? { ca: o.caPem || undefined, cert: o.clientCertPem || undefined, key: o.clientKeyPem || undefined } : {}),
      connectTimeout: 5_000,
      // Once connected, reconnects forever, backing off to 2 s: a restarted Redis is found again
      // by itself. The first connection is not retried: a wrong address fails the start at once.
      reconnectStrategy: (retries: number, cause: Error) => (everConnected() ? Math.min(2_000, 50 * 2 ** retries) : cause),
    } as never,
    username: o.username || undefined,
    password: o.password || undefined,
    database: o.db ?? 0,
    // Commands fail at once while disconnected instead of queueing without bound.
    disableOfflineQueue: true,
  }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
}

const isNumeric = (s: string) => /^\d+$/.test(s);

export class RedisStore implements StateStore {
  readonly type = "state.redis";
  readonly features = ["ETAG", "TRANSACTIONAL", "TTL"] as const;

  private constructor(
    private readonly client: Client,
    private readonly o: RedisOptions,
  ) {}

  /** Connects (within 5 s) so a wrong address or password is an error at start. */
  static async open(o: RedisOptions): Promise<RedisStore> {
    let connected = false;
    const client = connect(o, () => connected);
    let lastError = "";
    client.on("error", (e: Error) => (lastError = e.message));
    try {
      await Promise.race([client.connect(), new Promise((_, reject) => setTimeout(() => reject(new Error(lastError || "no connection in 5 s")), 5_000))]);
    } catch (e) {
      client.destroy();
      throw new Error(`cannot connect to Redis at ${o.host}: ${(e as Error).message || lastError}`);
    }
    connected = true;
    return new RedisStore(client, o);
  }

  async get(key: string): Promise<StoredItem | null> {
    const h = (await this.client.sendCommand(["HGETALL", key])) as Record<string, Buffer> | null;
    if (!h || !h.data) return null;
    return { data: new Uint8Array(h.data), etag: h.version ? h.version.toString() : "" };
  }

  private args(op: TransactionOp): string[] | Buffer[] {
    const r = op.req;
    const etag = r.etag ?? "";
    // Dapr's Redis ETags are versions: anything else cannot match and is refused as invalid.
    if (etag !== "" && !isNumeric(etag)) throw new EtagInvalid(etag);
    if (op.op === "delete") return ["d", etag, "0", "", ""];
    const s = op.req as SetRequest;
    const ttl = s.ttlSeconds ?? this.o.defaultTtlSeconds ?? null;
    return ["s", etag, s.concurrency === "first-write" && etag === "" ? "1" : "0", Buffer.from(s.value) as unknown as string, ttl === null || ttl === 0 ? "" : String(ttl)];
  }

  private async run(ops: readonly TransactionOp[]): Promise<void> {
    if (ops.length === 0) return;
    const argv: Array<string | Buffer> = [];
    for (const op of ops) argv.push(...this.args(op));
    try {
      await this.client.sendCommand(["EVAL", WRITE_SCRIPT, String(ops.length), ...ops.map((o) => o.req.key), ...argv] as never);
    } catch (e) {
      const m = /ETAG_MISMATCH (.*)$/.exec((e as Error).message);
      if (m) throw new EtagMismatch(m[1]!);
      throw e;
    }
  }

  set(req: SetRequest): Promise<void> {
    return this.run([{ op: "upsert", req }]);
  }

  delete(req: DeleteRequest): Promise<void> {
    return this.run([{ op: "delete", req }]);
  }

  transact(ops: readonly TransactionOp[]): Promise<void> {
    return this.run(ops);
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => this.client.destroy());
  }
}
