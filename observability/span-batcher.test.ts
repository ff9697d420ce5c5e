// The export queues: spans reach exporters after the turn that ended them, each exporter's queue
// is bounded (drops counted), a batch leaves at once, what waits behind a slow export goes in the
// next one, and a slow exporter holds back only itself.

import { describe, expect, it } from "vitest";
import { SpanBatcher, type SpanExport } from "./span-batcher.ts";
import { spanStarter, type SpanRecord } from "./span-records.ts";

const turn = () => new Promise((r) => setImmediate(r));

/** Ends `n` spans named `name`, then lets two turns pass (the queue takes them, a batch may leave). */
async function endSpans(start: ReturnType<typeof spanStarter>, name: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) start(name, "client", null).end();
  await turn();
  await turn();
}
const sizes = (x: { batches: string[][] }) => x.batches.map((q) => q.length);

/** An exporter that keeps span names and answers when told to (or at once). */
function exporter(answerAtOnce: boolean) {
  const batches: string[][] = [];
  const answers: Array<() => void> = [];
  let prepared = 0;
  const e: SpanExport<string> = {
    prepare: (s: SpanRecord) => (prepared++, s.name),
    export(items, done) {
      batches.push([...items]);
      if (answerAtOnce) done({ code: 0 });
      else answers.push(() => done({ code: 0 }));
    },
    shutdown: async () => {},
  };
  return { e, batches, answers, prepared: () => prepared };
}

describe("span export queues", () => {
  it("take spans after the turn that ended them, drop and count past their bound, and export in batches", async () => {
    const x = exporter(true);
    let dropped = 0;
    const b = new SpanBatcher([x.e], null, { maxQueue: 5, delayMs: 60_000, flushAt: 2, maxBatch: 2, onDropped: (n) => (dropped += n) });
    const start = spanStarter(1, b);
    for (let i = 0; i < 8; i++) start(`s${i}`, "client", null).end();
    expect(x.prepared()).toBe(0);
    await turn();
    expect(x.prepared()).toBe(5);
    expect(dropped).toBe(3);
    // A full batch leaves without the timer, and each answer lets the next full one go.
    await turn();
    await turn();
    expect(x.batches).toEqual([
      ["s0", "s1"],
      ["s2", "s3"],
    ]);
    await b.shutdown();
    expect(x.batches.at(-1)).toEqual(["s4"]);
  });

  it("keep one export out at a time, lose nothing that fits while it is out, and drain after it", async () => {
    const x = exporter(false);
    let dropped = 0;
    const b = new SpanBatcher([x.e], null, { maxQueue: 10, delayMs: 60_000, flushAt: 3, maxBatch: 3, onDropped: (n) => (dropped += n) });
    const start = spanStarter(1, b);
    await endSpans(start, "a", 3);
    expect(sizes(x)).toEqual([3]);
    await endSpans(start, "b", 7);
    expect(sizes(x)).toEqual([3]);
    x.answers.shift()!();
    await turn();
    expect(sizes(x)).toEqual([3, 3]);
    x.answers.shift()!();
    await turn();
    expect(sizes(x)).toEqual([3, 3, 3]);
    x.answers.shift()!();
    expect(dropped).toBe(0);
    const shut = b.shutdown();
    await turn();
    x.answers.shift()?.();
    await shut;
    expect(sizes(x)).toEqual([3, 3, 3, 1]);
  });

  it("send a small batch at once, and what piled up behind a slow export in the next one, up to the most an export carries", async () => {
    const x = exporter(false);
    let dropped = 0;
    const b = new SpanBatcher([x.e], null, { maxQueue: 20, delayMs: 60_000, flushAt: 2, maxBatch: 5, onDropped: (n) => (dropped += n) });
    const start = spanStarter(1, b);
    await endSpans(start, "a", 2);
    expect(sizes(x)).toEqual([2]);
    // The collector is slow: 8 spans wait behind the export that is out.
    await endSpans(start, "b", 8);
    expect(sizes(x)).toEqual([2]);
    x.answers.shift()!();
    await turn();
    await turn();
    expect(sizes(x)).toEqual([2, 5]);
    x.answers.shift()!();
    await turn();
    await turn();
    expect(sizes(x)).toEqual([2, 5, 3]);
    x.answers.shift()!();
    // One span is under flushAt: it waits for the timer (or shutdown).
    await endSpans(start, "c", 1);
    expect(x.batches).toHaveLength(3);
    const shut = b.shutdown();
    await turn();
    x.answers.shift()?.();
    await shut;
    expect(sizes(x)).toEqual([2, 5, 3, 1]);
    expect(dropped).toBe(0);
  });

  it("give each exporter its own queue: one that never answers holds back only itself", async () => {
    const stuck = exporter(false);
    const fine = exporter(true);
    let dropped = 0;
    const b = new SpanBatcher([stuck.e, fine.e], null, { maxQueue: 4, delayMs: 60_000, flushAt: 2, maxBatch: 2, onDropped: (n) => (dropped += n) });
    const start = spanStarter(1, b);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 2; i++) start(`r${round}`, "server", null).end();
      await turn();
      await turn();
    }
    expect(fine.batches.flat()).toHaveLength(10);
    // The stuck one: its first batch is out, its queue holds 4 more, the other 4 were dropped and counted.
    expect(stuck.batches).toHaveLength(1);
    expect(dropped).toBe(4);
  });
});
