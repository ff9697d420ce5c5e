import { describe, expect, it } from "vitest";
import { asSidecarError, errorResponse, invokeError, REASONS } from "./errors.ts";

describe("errors to the wire", () => {
  it("uses Dapr's JSON shape with the reason header", async () => {
    const res = errorResponse(invokeError("app_id_not_found", "x", "couldn't find service: x"));
    expect(res.status).toBe(500);
    expect(res.headers.get("meshlet-reason")).toBe("app_id_not_found");
    expect(await res.json()).toEqual({ errorCode: "ERR_DIRECT_INVOKE", message: "failed to invoke, id: x, err: couldn't find service: x" });
  });
  it("maps every reason to a status and an error code", () => {
    for (const [reason, spec] of Object.entries(REASONS)) {
      expect(spec.status, reason).toBeGreaterThanOrEqual(400);
      expect(spec.errorCode, reason).toMatch(/^ERR_[A-Z_]+$/);
    }
  });
  it("wraps unknown throwables as internal", () => {
    expect(asSidecarError(new Error("boom")).reason).toBe("internal");
  });
});


describe("the README's reason table", () => {
  it("lists exactly the reasons the code has, with the same status and error code", async () => {
    const fs = await import("node:fs");
    const path = await import("node:path");
    const whole = fs.readFileSync(path.join(import.meta.dirname, "..", "README.md"), "utf8");
    // Only the reasons section: other tables (metric families) have backticked names too.
    const readme = /### Errors the sidecar makes\n([\s\S]*?)\n#/.exec(whole)![1]!;
    const rows = new Map<string, { status: string; errorCode: string }>();
    for (const m of readme.matchAll(/^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|/gm)) {
      rows.set(m[1]!, { status: m[2]!.trim(), errorCode: m[3]!.trim() });
    }
    expect([...rows.keys()].sort()).toEqual(Object.keys(REASONS).sort());
    for (const [reason, spec] of Object.entries(REASONS)) {
      const row = rows.get(reason)!;
      expect(row.status.startsWith(String(spec.status)), `${reason} status`).toBe(true);
      // Answered in plain text, as daprd: the table says so instead of an error code.
      if ("plainText" in spec) expect(row.errorCode, `${reason} errorCode`).toMatch(/^\(plain text/);
      else expect(row.errorCode, `${reason} errorCode`).toBe(spec.errorCode);
    }
  });
});
