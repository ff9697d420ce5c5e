// offThread: the answer comes from a worker when one starts, from the calling thread (with one
// warning) when none can, and a worker that takes too long is cut off with the timeout answer.

import { describe, expect, it } from "vitest";
import { offThread } from "./off-thread.ts";

function work(module: string, timeoutMs = 5_000, inProcess = false) {
  const warnings: string[] = [];
  const run = offThread<number, string>({
    module,
    timeoutMs,
    here: (n) => `here ${n}`,
    timedOut: (e) => `timed out: ${e.message}`,
    what: "test files",
    log: { warn: (msg) => void warnings.push(msg) },
    inProcess,
  });
  return { run, warnings };
}

describe("offThread", () => {
  it("answers from the worker when it starts", async () => {
    const { run, warnings } = work("test/workers/echo.mjs");
    expect(await run(21)).toBe(42);
    expect(warnings).toEqual([]);
  });

  it("does the work here when no worker can start, and warns once", async () => {
    const { run, warnings } = work("test/workers/missing.mjs");
    expect(await run(1)).toBe("here 1");
    expect(await run(2)).toBe("here 2");
    expect(warnings).toEqual(["test files are parsed on the event loop: no worker thread"]);
  });

  it("gives the timeout answer when the worker does not answer in time", async () => {
    const { run, warnings } = work("test/workers/silent.mjs", 300);
    expect(await run(1)).toBe("timed out: took longer than 0.3 s");
    expect(warnings).toEqual([]);
  });

  it("stays on the calling thread when asked to", async () => {
    const { run } = work("test/workers/echo.mjs", 5_000, true);
    expect(await run(3)).toBe("here 3");
  });
});
