import { describe, expect, it } from "vitest";
import { asConnectionError, ConnectionError } from "./connection-error.ts";

describe("asConnectionError: runtime clients' errors by code, not by message", () => {
  it("a refusal, however nested, never reached a server", () => {
    const bun = Object.assign(new Error("Unable to connect. Is the computer able to access the url?"), { code: "ConnectionRefused" });
    const undici = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }) });
    for (const e of [bun, undici]) {
      const c = asConnectionError(e) as ConnectionError;
      expect([c.code, c.nothingSent]).toEqual(["ECONNREFUSED", true]);
    }
  });
  it("anything else is a broken exchange; a message that mentions a refusal does not count", () => {
    const c = asConnectionError(Object.assign(new Error("peer said ECONNREFUSED"), { code: "UND_ERR_SOCKET" })) as ConnectionError;
    expect([c.code, c.nothingSent]).toEqual(["ECONNRESET", false]);
  });
  it("aborts pass through as they are", () => {
    const abort = new DOMException("The operation was aborted.", "AbortError");
    expect(asConnectionError(abort)).toBe(abort);
  });
});
