// W3C trace context helpers: traceparent validity and W3C Baggage validity.

import { describe, expect, it } from "vitest";
import { isValidBaggage } from "./trace.ts";
import { isValidTraceparent } from "../core/trace-context.ts";

describe("trace context", () => {
  it("accepts valid traceparents only", () => {
    expect(isValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBe(true);
    for (const bad of ["00-zz-yy-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", null]) expect(isValidTraceparent(bad)).toBe(false);
  });

  it("accepts W3C Baggage and refuses what is not", () => {
    for (const ok of ["userId=alice", "userId=alice,serverNode=DF%2028,isProduction=false", "k=v;ttl=5;flag", "k = v , l=w", "k="]) expect(isValidBaggage(ok), ok).toBe(true);
    for (const bad of ["no-equals", "k=v v", "=v", "k=v%2", 'k="quoted"', "k=v;=p", Array(181).fill("x=y").join(",")]) expect(isValidBaggage(bad), bad).toBe(false);
    expect(isValidBaggage("k=" + "v".repeat(9000))).toBe(false);
  });
});
