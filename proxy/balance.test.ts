import { describe, expect, it } from "vitest";
import { balance } from "./balance.ts";
import { endpoint, type Call, type CallContext, type Endpoint, type ProxyRequest } from "../core/call.ts";
import { invokeError, SidecarError } from "../core/errors.ts";
import type { Resolver } from "../resolvers/types.ts";
import { HeaderList } from "../core/header-list.ts";

function fakeResolver(eps: Endpoint[]) {
  const evicted: string[] = [];
  const r: Resolver = {
    name: "fake",
    resolve: async () => {
      const live = eps.filter((e) => !evicted.includes(e.key));
      if (!live.length) throw invokeError("app_id_not_found", "a", "none");
      return live;
    },
    evict: (_ref, ep) => void evicted.push(ep.key),
    register: async () => {},
    deregister: async () => {},
    close: async () => {},
  };
  return { r, evicted };
}

const ctx = (): CallContext => ({ appId: "a", namespace: "default", signal: new AbortController().signal });
const get: ProxyRequest = { method: "GET", path: "/", query: "", headers: new HeaderList(), body: null };
const post: ProxyRequest = { ...get, method: "POST", body: new ReadableStream() };

describe("balance layer", () => {
  const e1 = endpoint("127.0.0.1", 1);
  const e2 = endpoint("127.0.0.1", 2);

  it("moves a request that never reached an endpoint to another one, and evicts the first", async () => {
    const { r, evicted } = fakeResolver([e1, e2]);
    const seen: string[] = [];
    const next: Call = async (_q, c) => {
      seen.push(c.endpoint!.key);
      if (c.endpoint === e1) throw invokeError("peer_unreachable", "a", "refused", { neverSent: true });
      return new Response("ok");
    };
    const res = await balance(r, { random: () => 0 })(next)(get, ctx());
    expect(await res.text()).toBe("ok");
    expect(seen).toEqual(["127.0.0.1:1", "127.0.0.1:2"]);
    expect(evicted).toEqual(["127.0.0.1:1"]);
  });

  it("does not resend a streamed body, but still evicts", async () => {
    const { r, evicted } = fakeResolver([e1, e2]);
    const next: Call = async () => {
      throw invokeError("peer_unreachable", "a", "refused", { neverSent: true });
    };
    await expect(balance(r, { random: () => 0 })(next)(post, ctx())).rejects.toMatchObject({ reason: "peer_unreachable" });
    expect(evicted).toEqual(["127.0.0.1:1"]);
  });

  it("never retries an error that may have reached the app", async () => {
    const { r } = fakeResolver([e1, e2]);
    let calls = 0;
    const next: Call = async () => {
      calls++;
      throw invokeError("upstream_reset", "a", "reset");
    };
    await expect(balance(r)(next)(get, ctx())).rejects.toBeInstanceOf(SidecarError);
    expect(calls).toBe(1);
  });

  it("reports the last failure when every endpoint refused", async () => {
    const { r } = fakeResolver([e1, e2]);
    const next: Call = async (_q, c) => {
      throw invokeError("peer_unreachable", "a", `refused ${c.endpoint!.key}`, { neverSent: true });
    };
    await expect(balance(r)(next)(get, ctx())).rejects.toMatchObject({ reason: "peer_unreachable" });
  });

  it("treats a wrong_target answer as a stale endpoint", async () => {
    const { r, evicted } = fakeResolver([e1, e2]);
    const next: Call = async (_q, c) =>
      c.endpoint === e1 ? new Response("{}", { status: 500, headers: { "meshlet-reason": "wrong_target" } }) : new Response("right");
    const res = await balance(r, { random: () => 0 })(next)(get, ctx());
    expect(await res.text()).toBe("right");
    expect(evicted).toEqual(["127.0.0.1:1"]);
  });

  it("moves a POST the callee says never reached its app to another instance, once, and keeps the instance resolvable", async () => {
    const { r, evicted } = fakeResolver([e1, e2]);
    const seen: string[] = [];
    const moved: string[] = [];
    const body = new TextEncoder().encode("order 7");
    const next: Call = async (q, c) => {
      seen.push(`${c.endpoint!.key} ${new TextDecoder().decode(q.body as Uint8Array)}`);
      return c.endpoint === e1
        ? new Response("{}", { status: 503, headers: { "meshlet-reason": "app_unhealthy", "meshlet-not-delivered": "1" } })
        : new Response("saved");
    };
    const res = await balance(r, { random: () => 0, failover: (ep, why) => moved.push(`${ep} ${why}`) })(next)({ ...post, body }, ctx());
    expect(await res.text()).toBe("saved");
    expect(seen).toEqual(["127.0.0.1:1 order 7", "127.0.0.1:2 order 7"]);
    expect(moved).toEqual(["127.0.0.1:1 app_unhealthy"]);
    // Its sidecar answered: the instance is not a stale address.
    expect(evicted).toEqual([]);
  });

  it("answers with the callee's not-delivered error when no other instance is left, and never moves a streamed body", async () => {
    const { r } = fakeResolver([e1, e2]);
    let calls = 0;
    const notDelivered: Call = async () => {
      calls++;
      return new Response("{}", { status: 500, headers: { "meshlet-reason": "app_unreachable", "meshlet-not-delivered": "1" } });
    };
    const res = await balance(r, { random: () => 0 })(notDelivered)({ ...post, body: new Uint8Array(3) }, ctx());
    expect(res.status).toBe(500);
    expect(res.headers.get("meshlet-reason")).toBe("app_unreachable");
    expect(calls).toBe(2);
    calls = 0;
    expect((await balance(r, { random: () => 0 })(notDelivered)(post, ctx())).status).toBe(500);
    expect(calls).toBe(1);
  });

  it("does not move a 5xx without the mark: it may have reached the app", async () => {
    const { r } = fakeResolver([e1, e2]);
    let calls = 0;
    const next: Call = async () => {
      calls++;
      return new Response("{}", { status: 500, headers: { "meshlet-reason": "app_unreachable" } });
    };
    expect((await balance(r, { random: () => 0 })(next)({ ...post, body: new Uint8Array(3) }, ctx())).status).toBe(500);
    expect(calls).toBe(1);
  });
});

describe("balance layer with consistent hashing on a header", () => {
  const eps = [1, 2, 3, 4].map((p) => endpoint("127.0.0.1", p));
  const withUser = (user: string): ProxyRequest => ({ ...get, headers: HeaderList.of({ "x-user": user }) });

  it("sends every request of one key to one instance, and requests without it by load", async () => {
    const { r } = fakeResolver(eps);
    const seen = new Map<string, Set<string>>();
    const next: Call = async (q, c) => {
      const u = q.headers.get("x-user") ?? "-";
      if (!seen.has(u)) seen.set(u, new Set());
      seen.get(u)!.add(c.endpoint!.key);
      return new Response("ok");
    };
    let seed = 3;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const call = balance(r, { hashHeader: "x-user", random })(next);
    for (let round = 0; round < 5; round++) for (const u of ["ann", "bob", "cyd", "dee", "eve", "fay"]) await call(withUser(u), ctx());
    for (let i = 0; i < 40; i++) await call(get, ctx());
    for (const u of ["ann", "bob", "cyd", "dee", "eve", "fay"]) expect(seen.get(u)!.size).toBe(1);
    // Six users land on more than one instance; unhashed requests are balanced by load.
    expect(new Set([...seen].filter(([u]) => u !== "-").map(([, s]) => [...s][0])).size).toBeGreaterThan(1);
    expect(seen.get("-")!.size).toBeGreaterThan(1);
  });

  it("moves a key whose instance is unreachable to the key's next instance, the same one every time", async () => {
    const { r } = fakeResolver(eps);
    const first = new Map<string, string>();
    const record: Call = async (q, c) => {
      first.set(q.headers.get("x-user")!, c.endpoint!.key);
      return new Response("ok");
    };
    await balance(r, { hashHeader: "x-user" })(record)(withUser("ann"), ctx());
    const home = first.get("ann")!;
    // That instance now refuses connections: the request moves, and a second call goes to the same place.
    const landed: string[] = [];
    const refusing: Call = async (_q, c) => {
      if (c.endpoint!.key === home) throw invokeError("peer_unreachable", "a", "refused", { neverSent: true });
      landed.push(c.endpoint!.key);
      return new Response("ok");
    };
    const { r: r2 } = fakeResolver(eps);
    const call = balance(r2, { hashHeader: "x-user" })(refusing);
    await call(withUser("ann"), ctx());
    await call(withUser("ann"), ctx());
    expect(landed).toHaveLength(2);
    expect(landed[0]).not.toBe(home);
    expect(landed[1]).toBe(landed[0]);
  });
});
