import { describe, expect, it } from "vitest";
import { limitBody } from "./body-limit.ts";
import type { CallContext } from "./types.ts";
import { SidecarError } from "./errors.ts";

const ctx = (): CallContext => ({ appId: "a", namespace: "default", signal: new AbortController().signal });
const stream = (sizes: number[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const n of sizes) c.enqueue(new Uint8Array(n));
      c.close();
    },
  });

describe("limitBody", () => {
  it("refuses a declared Content-Length over the limit before reading", () => {
    expect(() => limitBody(stream([1]), "11", 10, ctx())).toThrow(SidecarError);
  });
  it("passes a fitting declared body through untouched", () => {
    const s = stream([10]);
    expect(limitBody(s, "10", 10, ctx())).toBe(s);
  });
  it("counts a chunked body and errors the stream at the limit, marking the context", async () => {
    const c = ctx();
    const out = limitBody(stream([6, 6]), null, 10, c)!;
    const reader = out.getReader();
    expect((await reader.read()).value?.byteLength).toBe(6);
    await expect(reader.read()).rejects.toMatchObject({ reason: "body_too_large" });
    expect(c.bodyTooLarge).toBe(true);
  });
  it("lets a chunked body at exactly the limit through", async () => {
    const out = limitBody(stream([5, 5]), null, 10, ctx())!;
    expect((await new Response(out).arrayBuffer()).byteLength).toBe(10);
  });
});
