import { describe, expect, it } from "vitest";
import { dialError, toApp, toPeer } from "./forward.ts";
import { HeaderList } from "../core/header-list.ts";
import { WireResponse } from "../core/wire-response.ts";
import { pooledDialer } from "../runtime/conn-pool.ts";
import type { H1Conn } from "../http1/h1-conn.ts";
import { ConnectionError } from "../http1/h1-conn.ts";
import { endpoint, type CallContext } from "../core/call.ts";

const ctx = (): CallContext => ({ appId: "orders", namespace: "default", signal: new AbortController().signal, endpoint: endpoint("127.0.0.1", 9) });

describe("dialError: the dialer's typed facts decide, not its message", () => {
  it("a refused connection never reached a server", () => {
    const e = dialError(new ConnectionError("whatever the text", "ECONNREFUSED", true, true), ctx(), "peer", 1);
    expect([e.reason, e.neverSent]).toEqual(["peer_unreachable", true]);
    const app = dialError(new ConnectionError("x", "ECONNREFUSED", true, true), ctx(), "app", 1);
    expect([app.reason, app.neverSent]).toEqual(["app_unreachable", true]);
  });

  it("a broken connection is never-sent only when the dialer says nothing left", () => {
    const before = dialError(new ConnectionError("closed", "EPIPE", true, true), ctx(), "peer", 1);
    expect([before.reason, before.neverSent]).toEqual(["upstream_reset", true]);
    const after = dialError(new ConnectionError("reset", "ECONNRESET", true, false), ctx(), "peer", 1);
    expect([after.reason, after.neverSent]).toEqual(["upstream_reset", false]);
  });

  it("a message that merely mentions a refusal is not taken for one", () => {
    const e = dialError(new ConnectionError("upstream said: ECONNREFUSED in its body", "HPE_INVALID", false, false), ctx(), "peer", 1);
    expect([e.reason, e.neverSent]).toEqual(["upstream_reset", false]);
  });
});

describe("the call to the app", () => {
  const req = () => ({ method: "POST", path: "/x", query: "", headers: new HeaderList(), body: null });

  it("drops an app's meshlet-not-delivered: only the sidecar may say a request never reached the app", async () => {
    const dialer = { dial: async () => new WireResponse(null, { status: 500 }, HeaderList.of({ "meshlet-not-delivered": "1", "x-app": "yes" })), close: async () => {} };
    const res = await toApp(dialer, endpoint("127.0.0.1", 9), 1)(req(), ctx());
    expect(res.headers.get("meshlet-not-delivered")).toBeNull();
    expect(res.headers.get("x-app")).toBe("yes");
  });

  it("tells app health of refused connections, and of nothing else", async () => {
    const heard: string[] = [];
    const failing = (e: Error) => ({ dial: () => Promise.reject(e), close: async () => {} });
    const app = endpoint("127.0.0.1", 9);
    await toApp(failing(new ConnectionError("refused", "ECONNREFUSED", true, true)), app, 1, undefined, (e) => heard.push(e.reason))(req(), ctx()).catch(() => {});
    await toApp(failing(new ConnectionError("reset", "ECONNRESET", false, false)), app, 1, undefined, (e) => heard.push(e.reason))(req(), ctx()).catch(() => {});
    expect(heard).toEqual(["app_unreachable"]);
  });
});

describe("connect timeout", () => {
  it("fails a connection that never completes as connect_timeout, never sent, within the timeout", async () => {
    let late: ((c: H1Conn) => void) | null = null;
    let destroyed = false;
    const never = () => new Promise<H1Conn>((resolve) => (late = resolve));
    const dialer = pooledDialer(never, (ep) => ep.key, undefined, 100);
    const t0 = performance.now();
    const e = await dialer.dial(endpoint("10.255.255.1", 80), { method: "GET", path: "/", query: "", headers: new HeaderList(), body: null }, ctx()).catch((x: unknown) => x);
    const waited = performance.now() - t0;
    const err = dialError(e, ctx(), "peer", 1);
    expect([err.reason, err.neverSent]).toEqual(["connect_timeout", true]);
    expect(err.message).toContain("within 100 ms");
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(2_000);
    // A connection that completes after the timeout is closed, not used.
    late!({ destroy: () => void (destroyed = true) } as unknown as H1Conn);
    await new Promise((r) => setImmediate(r));
    expect(destroyed).toBe(true);
    await dialer.close();
  });
});

describe("what is left of the call's deadline", () => {
  const req = () => ({ method: "GET", path: "/x", query: "", headers: HeaderList.of({ "meshlet-timeout-ms": "900" }), body: null });
  const sent: HeaderList[] = [];
  const dialer = {
    dial: async (_ep: unknown, r: { headers: HeaderList }) => {
      sent.push(r.headers);
      return new Response("ok");
    },
    close: async () => {},
  };

  it("goes to the peer and to the app as meshlet-timeout-ms, rounded up, at the time each request leaves", async () => {
    let now = 1000;
    const c = { ...ctx(), deadlineAt: 1250.4 };
    await toPeer(dialer, { appId: "shop", namespace: "default" }, 1, undefined, () => now)(req(), c);
    now = 1250;
    await toApp(dialer, endpoint("127.0.0.1", 9), 1, undefined, undefined, () => now)(req(), { ...c });
    expect(sent.map((h) => h.get("meshlet-timeout-ms"))).toEqual(["251", "1"]);
  });

  it("leaves a peer's meshlet-timeout-ms to the app as it came when this sidecar holds no deadline", async () => {
    sent.length = 0;
    await toApp(dialer, endpoint("127.0.0.1", 9), 1, undefined, undefined, () => 0)(req(), ctx());
    expect(sent[0]!.get("meshlet-timeout-ms")).toBe("900");
  });
});
