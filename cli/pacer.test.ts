import { afterEach, describe, expect, it, vi } from "vitest";
import { evenPacer } from "./pacer.mjs";

/** A stand-in for an autocannon client: `_doRequest` is what the pacer wraps and later calls. */
function client(sent: number[]) {
  const c = { destroyed: false, _doRequest: () => sent.push(performance.now()) } as { destroyed: boolean; _doRequest: () => void };
  return c;
}

describe("evenPacer", () => {
  afterEach(() => vi.useRealTimers());

  it("releases one request per period, and starts the clock only when a connection is ready", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const sent: number[] = [];
    const p = evenPacer(100); // one every 10 ms
    const a = client(sent);
    const b = client(sent);
    p.setupClient(a);
    p.setupClient(b);
    p.start();
    // Connections take 50 ms to open: nothing falls due meanwhile, so no burst follows.
    vi.advanceTimersByTime(50);
    expect(p.startedAt).toBe(0);
    a._doRequest(); // a is ready and parks
    b._doRequest();
    const t0 = p.startedAt;
    expect(t0).toBe(50);
    expect(sent).toEqual([50]);
    // Each released request "completes" at once and its client parks again.
    for (let i = 0; i < 9; i++) {
      vi.advanceTimersByTime(10);
      a._doRequest();
      b._doRequest();
    }
    p.stop();
    expect(sent.length).toBe(10);
    expect(sent.map((t, i) => t - (t0 + i * 10))).toEqual(Array(10).fill(0));
    expect(Math.max(...p.lags)).toBe(0);
  });
});
