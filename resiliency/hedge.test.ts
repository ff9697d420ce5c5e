// Hedged reads on a fake clock, with an upstream whose attempts answer when told: when a hedge
// goes out and where, which answer wins, what happens to the others, the budget, and the delay
// that follows a percentile.

import { describe, expect, it } from "vitest";
import { hedgeLayer } from "./hedge.ts";
import { RetryBudget } from "./budget.ts";
import type { ResilienceEvents } from "./events.ts";
import type { HedgePolicy } from "./policy/types.ts";
import { fakeClock } from "../core/fake-clock.ts";
import { endpoint, newCallContext, type CallContext, type ProxyRequest } from "../core/call.ts";
import { HeaderList } from "../core/header-list.ts";
import { NEVER, ChildSignal } from "../core/abort.ts";
import { textResponse } from "../core/wire-response.ts";

interface Attempt {
  readonly ctx: CallContext;
  answer(status: number, body?: string): void;
  fail(e: unknown): void;
  aborted(): boolean;
}

function setup(policy: Partial<HedgePolicy> = {}, budget = { ratio: 0.2, minPerSecond: 10, windowSeconds: 10 }) {
  const { clock, advance } = fakeClock();
  const attempts: Attempt[] = [];
  const log: string[] = [];
  const events = { hedge: (t: string, o: string) => log.push(`${t} ${o}`) } as unknown as ResilienceEvents;
  const layer = hedgeLayer({
    target: "inv",
    policy: { delayMs: 50, percentile: null, maxHedges: 1, ...policy },
    budget: new RetryBudget(budget, clock.now),
    events,
    clock,
    countRequests: true,
  });
  let n = 0;
  const call = layer((_req, ctx) => {
    // The endpoint step's part: pick an instance not in `avoid`.
    ctx.endpoint = ["a", "b", "c"].map((h) => endpoint(h, 1)).find((e) => !ctx.avoid?.has(e.key));
    ctx.attempt = (ctx.attempt ?? 0) + 1;
    n++;
    return new Promise((resolve, reject) => {
      attempts.push({
        ctx,
        answer: (status, body = "") => resolve(textResponse(body || `from ${ctx.endpoint!.host}`, { status })),
        fail: reject,
        aborted: () => ctx.signal.aborted,
      });
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
    });
  });
  const run = (method = "GET", outer = new ChildSignal(NEVER)) => {
    const ctx = newCallContext("inv", "default", outer);
    const req: ProxyRequest = { method, path: "/x", query: "", headers: new HeaderList(), body: null };
    const p = call(req, ctx);
    p.catch(() => {});
    return { ctx, p, outer };
  };
  return { run, attempts, advance, log, calls: () => n };
}

const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe("hedged reads", () => {
  it("sends nothing more when the first attempt answers within the delay", async () => {
    const s = setup();
    const { p } = s.run();
    s.advance(49);
    s.attempts[0]!.answer(200);
    expect(await (await p).text()).toBe("from a");
    s.advance(100);
    expect(s.calls()).toBe(1);
    expect(s.log).toEqual([]);
  });

  it("sends a hedge to another instance after the delay; the first answer wins and the other is cancelled", async () => {
    const s = setup();
    const { p, ctx } = s.run();
    s.advance(50);
    expect(s.calls()).toBe(2);
    expect(s.attempts[1]!.ctx.endpoint!.host).toBe("b");
    expect(s.attempts[1]!.ctx.lastOutcome).toBe("hedged after 50 ms without headers");
    s.attempts[1]!.answer(200);
    expect(await (await p).text()).toBe("from b");
    await tick();
    expect(s.attempts[0]!.aborted()).toBe(true);
    expect(s.log).toEqual(["inv sent", "inv won"]);
    // The call's context tells what decided it: the hedge's instance, and two attempts so far.
    expect([ctx.endpoint!.host, ctx.attempt]).toEqual(["b", 2]);
  });

  it("keeps the first attempt's answer when it comes first, and cancels the body of a hedge answering late", async () => {
    const s = setup();
    const { p } = s.run();
    s.advance(50);
    s.attempts[0]!.answer(200);
    expect(await (await p).text()).toBe("from a");
    await tick();
    expect(s.attempts[1]!.aborted()).toBe(true);
    expect(s.log).toEqual(["inv sent"]);
  });

  it("waits for a hedge still in flight when the first attempt fails, and takes its answer", async () => {
    const s = setup();
    const { p } = s.run();
    s.advance(50);
    s.attempts[0]!.answer(503);
    await tick();
    s.attempts[1]!.answer(200);
    expect((await p).status).toBe(200);
  });

  it("ends as the first attempt did when every attempt fails", async () => {
    const s = setup();
    const { p } = s.run();
    s.advance(50);
    s.attempts[1]!.fail(new Error("hedge broke"));
    await tick();
    s.attempts[0]!.answer(502, "first");
    const res = await p;
    expect([res.status, await res.text()]).toEqual([502, "first"]);
  });

  it("does not hedge after a first attempt that failed before the delay", async () => {
    const s = setup();
    const { p } = s.run();
    s.attempts[0]!.answer(500);
    expect((await p).status).toBe(500);
    s.advance(100);
    expect(s.calls()).toBe(1);
  });

  it("sends up to maxHedges, one per delay, each away from the instances still answering", async () => {
    const s = setup({ maxHedges: 2 });
    const { p } = s.run();
    s.advance(50);
    s.advance(50);
    s.advance(500);
    expect(s.attempts.map((a) => a.ctx.endpoint!.host)).toEqual(["a", "b", "c"]);
    s.attempts[2]!.answer(200);
    expect(await (await p).text()).toBe("from c");
    await tick();
    expect(s.attempts.slice(0, 2).every((a) => a.aborted())).toBe(true);
  });

  it("never hedges a write", async () => {
    const s = setup();
    const { p } = s.run("POST");
    s.advance(500);
    expect(s.calls()).toBe(1);
    s.attempts[0]!.answer(200);
    await p;
  });

  it("pays each hedge from the retry budget and says so when it is spent", async () => {
    // A budget of 2 retries in the window and no share of traffic.
    const s = setup({}, { ratio: 0, minPerSecond: 0.2, windowSeconds: 10 });
    for (let i = 0; i < 3; i++) {
      s.run();
      s.advance(50);
    }
    expect(s.calls()).toBe(5);
    expect(s.log).toEqual(["inv sent", "inv sent", "inv budget"]);
  });

  it("aborts every attempt when the caller goes away", async () => {
    const s = setup();
    const { p, outer } = s.run();
    s.advance(50);
    outer.abort(new DOMException("client left", "AbortError"));
    await expect(p).rejects.toThrow("client left");
    expect(s.attempts.every((a) => a.aborted())).toBe(true);
  });

  it("with a percentile delay, hedges only once 20 reads were timed, after their p90", async () => {
    const s = setup({ delayMs: null, percentile: 90 });
    // 20 reads taking 1..20 ms: p90 (nearest rank) is 18 ms.
    for (let i = 1; i <= 20; i++) {
      const { p } = s.run();
      s.advance(i);
      s.attempts.at(-1)!.answer(200);
      await p;
    }
    expect(s.calls()).toBe(20);
    s.run();
    s.advance(17);
    expect(s.calls()).toBe(21);
    s.advance(1);
    expect(s.calls()).toBe(22);
  });
});
