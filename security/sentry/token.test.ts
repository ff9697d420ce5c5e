// Join tokens: signed claims, checked in constant time, with expiry and an app-id pattern.

import { describe, expect, it } from "vitest";
import crypto from "node:crypto";
import { appAdmitted, createToken, verifyToken } from "./token.ts";

describe("join tokens", () => {
  const key = crypto.randomBytes(32);
  it("round-trips claims and refuses expired, tampered and foreign tokens", () => {
    const now = Date.now();
    const t = createToken(key, { ns: "shop", app: "orders-*", exp: Math.floor(now / 1000) + 60 });
    expect(verifyToken(key, t, now)).toMatchObject({ ns: "shop", app: "orders-*" });
    expect(() => verifyToken(key, t, now + 61_000)).toThrow("the token expired");
    expect(() => verifyToken(crypto.randomBytes(32), t, now)).toThrow("signature does not verify");
    expect(() => verifyToken(key, t.slice(0, -2) + "AA", now)).toThrow("signature does not verify");
    expect(() => verifyToken(key, "hello", now)).toThrow("not a meshlet join token");
  });
  it("matches app-id patterns with * globs only", () => {
    expect([appAdmitted("*", "x"), appAdmitted("orders-*", "orders-eu"), appAdmitted("orders-*", "payments"), appAdmitted("a.b", "axb")]).toEqual([true, true, false, false]);
  });
});
