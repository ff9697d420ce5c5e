import { describe, expect, it } from "vitest";
import { timerQueue } from "./timer-queue.ts";
import { headersTimeout } from "./timeout.ts";
import { fakeClock } from "../core/fake-clock.ts";
import type { Call, CallContext, ProxyRequest } from "../core/call.ts";
import { SidecarError } from "../core/errors.ts";
import { HeaderList } from "../core/header-list.ts";
import { switchingProtocols } from "../core/wire-response.ts";

const req: ProxyRequest = { method: "GET", path: "/", query: "", headers: new HeaderList(), body: null };
const ctx = (): CallContext => ({ appId: "a", namespace: "default", signal: new AbortController().signal });

/** An upstream that answers when told, or rejects when its signal aborts. */
function pendingUpstream() {
  let answer!: (r: Response) => void;
  const call: Call = (_req, c) =>
    new Promise<Response>((resolve, reject) => {
      answer = resolve;
      c.signal.addEventListener("abort", () => reject(c.signal.reason));
    });
  return { call, answer: (r: Response) => answer(r) };
}

describe("per-try headers timeout", () => {
  it("fails with app_timeout exactly when the time is up", async () => {
    const { clock, advance } = fakeClock();
    const up = pendingUpstream();
    const p = headersTimeout(500, clock)(up.call)(req, ctx());
    advance(499);
    await Promise.resolve();
    advance(1);
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SidecarError);
    expect((e as SidecarError).reason).toBe("app_timeout");
    expect((e as SidecarError).message).toContain("context deadline exceeded");
  });

  it("stops timing once headers arrive, and leaves no timeout behind", async () => {
    const { clock, advance } = fakeClock();
    const up = pendingUpstream();
    const p = headersTimeout(500, clock)(up.call)(req, ctx());
    advance(100);
    up.answer(new Response("ok"));
    const res = await p;
    // Without idleBody the body is handed on untouched: the queued timeout is gone.
    expect(timerQueue(clock).pending(500)).toBe(0);
    advance(10_000);
    expect(await res.text()).toBe("ok");
  });

  it("passes a client abort through without calling it a timeout", async () => {
    const { clock } = fakeClock();
    const up = pendingUpstream();
    const ac = new AbortController();
    const p = headersTimeout(500, clock)(up.call)(req, { appId: "a", namespace: "default", signal: ac.signal });
    ac.abort(new Error("client went away"));
    await expect(p).rejects.toThrow("client went away");
  });

  it("is a no-op layer for 0", () => {
    const call: Call = async () => new Response("x");
    expect(headersTimeout(0)(call)).toBe(call);
  });
});

describe("idle timeout on a streaming body", () => {
  it("lets a body through while chunks keep coming, and aborts it after `ms` of silence", async () => {
    const { clock, advance } = fakeClock();
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
    let upstreamAborted = false;
    const call: Call = async (_req, c) => {
      c.signal.addEventListener("abort", () => (upstreamAborted = true));
      return new Response(body);
    };
    const res = await headersTimeout(500, clock, () => {}, true)(call)(req, ctx());
    const reader = res.body!.getReader();
    for (let i = 0; i < 5; i++) {
      push.enqueue(new Uint8Array([i]));
      expect((await reader.read()).value).toEqual(new Uint8Array([i]));
      advance(400); // 5 x 400 ms: longer than the timeout in total, never idle for 500 ms
    }
    expect(upstreamAborted).toBe(false);
    advance(100);
    expect(upstreamAborted).toBe(true);
    await expect(reader.read()).rejects.toBeDefined();
  });

  it("leaves an event stream and a WebSocket tunnel to the listener's hour: their quiet gaps are normal", async () => {
    const { clock, advance } = fakeClock();
    for (const make of [
      () => new Response(new ReadableStream(), { headers: { "content-type": "text/event-stream; charset=utf-8" } }),
      () => switchingProtocols(new ReadableStream(), new HeaderList()),
    ]) {
      let aborted = false;
      const call: Call = async (_req, c) => {
        c.signal.addEventListener("abort", () => (aborted = true));
        return make();
      };
      const res = await headersTimeout(500, clock, () => {}, true)(call)(req, ctx());
      advance(10_000);
      expect(aborted).toBe(false);
      await res.body!.cancel();
    }
  });
});
