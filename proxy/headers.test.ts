import { describe, expect, it } from "vitest";
import { forwardRequestHeaders, stampForwarded } from "./headers.ts";
import { forwardResponseHeaders } from "../core/hop-by-hop.ts";
import { HeaderList } from "../core/header-list.ts";
import { ensureTraceparent } from "./trace.ts";
import { isValidTraceparent, newTraceparent } from "../core/trace-context.ts";

describe("request headers", () => {
  it("drops hop-by-hop, Connection-listed, -bin and sidecar-stamped headers", () => {
    const h = forwardRequestHeaders(
      HeaderList.of({
        connection: "x-secret",
        "x-secret": "1",
        "keep-alive": "timeout=5",
        te: "trailers",
        "proxy-authorization": "p",
        "grpc-trace-bin": "AA",
        "dapr-app-id": "a",
        "dapr-api-token": "t",
        "dapr-caller-app-id": "forged",
        host: "h",
        "x-keep": "yes",
        "content-length": "5",
      }),
    );
    expect([...h].map(([k]) => k).sort()).toEqual(["content-length", "x-keep"]);
  });
  it("drops Authorization only when it carried the app-id", () => {
    expect(forwardRequestHeaders(HeaderList.of({ authorization: "Bearer x" })).get("authorization")).toBe("Bearer x");
    expect(forwardRequestHeaders(HeaderList.of({ authorization: "Basic x" }), true).get("authorization")).toBeNull();
  });
  it("appends forwarding headers like daprd", () => {
    const h = new Headers({ "x-forwarded-for": "10.0.0.9" });
    stampForwarded(h, "::1", "box");
    expect(h.get("x-forwarded-for")).toBe("10.0.0.9, ::1");
    expect(h.get("forwarded")).toBe('for="[::1]";host=box');
    expect(h.get("x-forwarded-host")).toBe("box");
  });
});

describe("response headers", () => {
  it("keeps content-length and every set-cookie, drops hop-by-hop", () => {
    const src = new Headers([
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["transfer-encoding", "chunked"],
      ["content-length", "3"],
      ["x-app", "y"],
    ]);
    const h = forwardResponseHeaders(src);
    expect(h.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(h.get("transfer-encoding")).toBeNull();
    expect(h.get("x-app")).toBe("y");
  });
});

describe("traceparent", () => {
  it("keeps a valid one and replaces an invalid one", () => {
    const valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const h = new Headers({ traceparent: valid, tracestate: "k=v" });
    expect(ensureTraceparent(h)).toBe(valid);
    expect(h.get("tracestate")).toBe("k=v");
    const bad = new Headers({ traceparent: "00-00000000000000000000000000000000-b7ad6b7169203331-01", tracestate: "k=v" });
    const tp = ensureTraceparent(bad, () => 0.5);
    expect(tp).toBe("00-80808080808080808080808080808080-8080808080808080-01");
    expect(bad.get("tracestate")).toBeNull();
  });
  it("never makes an all-zero id", () => {
    expect(isValidTraceparent(newTraceparent(() => 0))).toBe(true);
    expect(isValidTraceparent("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).toBe(false);
  });
  it("accepts only the 55-character lower-case hex form with non-zero ids", () => {
    const ok = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    expect(isValidTraceparent(ok)).toBe(true);
    expect(isValidTraceparent(` ${ok} `)).toBe(true);
    for (const bad of [
      "",
      ok.toUpperCase(),
      ok.slice(0, -1),
      `${ok}-extra`,
      ok.replace("-b7", "_b7"),
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
      "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x",
      "0-00af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ]) {
      expect(isValidTraceparent(bad), bad).toBe(false);
    }
  });
});
