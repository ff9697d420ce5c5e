import { describe, expect, it } from "vitest";
import { limitBody, takeBody } from "./body-limit.ts";
import type { CallContext } from "../core/call.ts";
import type { Incoming } from "../core/incoming.ts";
import { HeaderList } from "../core/header-list.ts";
import { SidecarError } from "../core/errors.ts";

const ctx = (): CallContext => ({ appId: "a", namespace: "default", signal: new AbortController().signal });
const stream = (sizes: number[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const n of sizes) c.enqueue(new Uint8Array(n));
      c.close();
    },
  });
const incoming = (body: Incoming["body"], contentLength: number | null, chunked = false): Incoming => ({
  method: "POST",
  target: "/",
  headers: new HeaderList(),
  body,
  contentLength,
  chunked,
  signal: new AbortController().signal,
  peer: { address: "127.0.0.1", port: 1 },
});

describe("takeBody", () => {
  it("refuses a declared Content-Length over the limit before reading", () => {
    expect(() => takeBody(incoming(stream([1]), 11), 10, ctx())).toThrow(SidecarError);
    expect(() => takeBody(incoming(new Uint8Array(11), 11), 10, ctx())).toThrow(SidecarError);
  });
  it("passes a fitting declared body through untouched", () => {
    const s = stream([10]);
    expect(takeBody(incoming(s, 10), 10, ctx())).toBe(s);
    const b = new Uint8Array(3);
    expect(takeBody(incoming(b, 3), 10, ctx())).toBe(b);
    expect(takeBody(incoming(null, null), 10, ctx())).toBeNull();
  });
  it("counts a chunked body", async () => {
    const out = takeBody(incoming(stream([6, 6]), null, true), 10, ctx()) as ReadableStream<Uint8Array>;
    await expect(new Response(out).arrayBuffer()).rejects.toMatchObject({ reason: "body_too_large" });
  });
});

describe("limitBody", () => {
  it("counts a chunked body and errors the stream at the limit, marking the context", async () => {
    const c = ctx();
    const out = limitBody(stream([6, 6]), 10, c);
    const reader = out.getReader();
    expect((await reader.read()).value?.byteLength).toBe(6);
    await expect(reader.read()).rejects.toMatchObject({ reason: "body_too_large" });
    expect(c.bodyTooLarge).toBe(true);
  });
  it("lets a chunked body at exactly the limit through", async () => {
    const out = limitBody(stream([5, 5]), 10, ctx());
    expect((await new Response(out).arrayBuffer()).byteLength).toBe(10);
  });
});
