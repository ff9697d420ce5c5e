import { describe, expect, it } from "vitest";
import { dialError } from "./forward.ts";
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
