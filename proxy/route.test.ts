import { describe, expect, it } from "vitest";
import { normalizeMethod, parseAppId, route, splitUrl } from "./route.ts";
import { SidecarError } from "../core/errors.ts";
import { HeaderList } from "../core/header-list.ts";

const r = (method: string, url: string, headers: Record<string, string> = {}) => route(method, url, new Headers(headers), "default");

describe("route", () => {
  it("takes everything after the first /method/ as the method path, query kept raw", () => {
    expect(r("GET", "http://h/v1.0/invoke/orders/method/a/method/b?x=%20&y")).toEqual({
      kind: "invoke",
      appId: "orders",
      namespace: "default",
      path: "/a/method/b",
      query: "?x=%20&y",
      viaAuth: false,
    });
  });

  it("reads name.namespace and unescapes the app-id", () => {
    expect(r("GET", "/v1.0/invoke/orders.prod/method/x")).toMatchObject({ appId: "orders", namespace: "prod" });
    expect(r("GET", "/v1.0/invoke/or%64ers/method/x")).toMatchObject({ appId: "orders" });
  });

  it("routes by dapr-app-id header on any path, before the URL form", () => {
    expect(r("POST", "/neworder?a=1", { "dapr-app-id": "nodeapp" })).toMatchObject({ kind: "invoke", appId: "nodeapp", path: "/neworder", query: "?a=1" });
    expect(r("GET", "/v1.0/metadata", { "dapr-app-id": "x" })).toMatchObject({ kind: "invoke", appId: "x", path: "/v1.0/metadata" });
  });

  it("routes by Basic-auth user dapr-app-id (case-insensitive user)", () => {
    const auth = "Basic " + btoa("DAPR-APP-ID:nodeapp");
    expect(r("GET", "/neworder", { authorization: auth })).toMatchObject({ kind: "invoke", appId: "nodeapp", viaAuth: true });
    expect(r("GET", "/neworder", { authorization: "Basic " + btoa("bob:pw") })).toMatchObject({ kind: "error" });
  });

  it("rejects two dots, URLs and a missing app-id with Dapr's reasons", () => {
    const two = r("GET", "/v1.0/invoke/a.b.c/method/x");
    expect(two.kind === "error" && two.error.reason).toBe("invalid_app_id");
    const none = r("GET", "/v1.0/invoke/");
    expect(none.kind === "error" && none.error.reason).toBe("no_app_id");
    expect(parseAppId("http://example.com", "default")).toBeInstanceOf(SidecarError);
  });

  it("treats /v1.0/invoke/<id>/method as the root method", () => {
    expect(r("GET", "/v1.0/invoke/orders/method")).toMatchObject({ kind: "invoke", appId: "orders", path: "/" });
  });

  it("knows the API routes, with a trailing slash tolerated", () => {
    expect(r("GET", "/v1.0/healthz/")).toMatchObject({ kind: "api", name: "healthz" });
    expect(r("GET", "/v1.0/healthz/outbound")).toMatchObject({ kind: "api", name: "healthz_outbound" });
    expect(r("PUT", "/v1.0/metadata/cliPID")).toMatchObject({ kind: "api", name: "metadata_put", key: "cliPID" });
    expect(r("POST", "/v1.0/shutdown")).toMatchObject({ kind: "api", name: "shutdown" });
    const wrong = r("POST", "/v1.0/metadata");
    expect(wrong.kind === "error" && wrong.error.reason).toBe("method_not_allowed");
    const nf = r("GET", "/nope");
    expect(nf.kind === "error" && nf.error.reason).toBe("route_not_found");
  });
});

describe("normalizeMethod", () => {
  it("resolves dot segments and refuses to climb above the root", () => {
    expect(normalizeMethod("/a/./b/../c")).toBe("/a/c");
    expect(normalizeMethod("/a//b")).toBe("/a/b");
    expect(normalizeMethod("/../etc")).toBeNull();
    expect(normalizeMethod("/%2e%2e/etc")).toBeNull();
  });
  it("refuses raw and percent-encoded control characters", () => {
    expect(normalizeMethod("/a\u0000b")).toBeNull();
    expect(normalizeMethod("/a%0d%0ab")).toBeNull();
    expect(normalizeMethod("/a%20b")).toBe("/a%20b");
  });
  it("returns plain paths as they are, and stays linear on long hostile input", () => {
    for (const p of ["/", "/a", "/a/b", "/a/b/", "/order-1/items_2/~x@y"]) expect(normalizeMethod(p)).toBe(p);
    expect(normalizeMethod("/a/b/.")).toBe("/a/b");
    const hostile = "/" + "a".repeat(50_000) + "/".repeat(2) + "b".repeat(50_000) + ".";
    const t0 = performance.now();
    expect(normalizeMethod(hostile)).toBe("/" + "a".repeat(50_000) + "/" + "b".repeat(50_000) + ".");
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe("splitUrl", () => {
  it("splits absolute and origin-form URLs", () => {
    expect(splitUrl("http://h:1/a/b?c=d?e")).toEqual({ path: "/a/b", query: "?c=d?e" });
    expect(splitUrl("/x")).toEqual({ path: "/x", query: "" });
    expect(splitUrl("http://h:1")).toEqual({ path: "/", query: "" });
  });
});

describe("state routes", () => {
  const r = (method: string, url: string) => route(method, url, new HeaderList(), "default");
  it("maps Dapr's state paths to operations, with the key decoded and the query kept", () => {
    expect(r("POST", "/v1.0/state/statestore")).toMatchObject({ kind: "state", op: "save", store: "statestore" });
    expect(r("PUT", "/v1.0/state/statestore?metadata.ttlInSeconds=5")).toMatchObject({ op: "save", query: "?metadata.ttlInSeconds=5" });
    expect(r("GET", "/v1.0/state/statestore/order%201")).toMatchObject({ op: "get", key: "order 1" });
    expect(r("DELETE", "/v1.0/state/statestore/order")).toMatchObject({ op: "delete", key: "order" });
    expect(r("POST", "/v1.0/state/statestore/bulk")).toMatchObject({ op: "bulk" });
    expect(r("PUT", "/v1.0/state/statestore/transaction")).toMatchObject({ op: "transaction" });
    // A key named bulk is still readable.
    expect(r("GET", "/v1.0/state/statestore/bulk")).toMatchObject({ op: "get", key: "bulk" });
  });

  it("refuses other verbs and bad escaping with Dapr-shaped errors", () => {
    const err = (x: ReturnType<typeof route>) => (x.kind === "error" ? x.error.reason : x.kind);
    expect(err(r("GET", "/v1.0/state/statestore"))).toBe("method_not_allowed");
    expect(err(r("PATCH", "/v1.0/state/statestore/k"))).toBe("method_not_allowed");
    expect(err(r("GET", "/v1.0/state/statestore/%zz"))).toBe("malformed_request");
  });
});
