// How an export retries: a transient failure (no answer, 429/502/503/504, OTLP's transient gRPC
// codes) is sent again after each backoff on the injected clock, or after the collector's
// Retry-After, all within the export's one timeout; anything else fails at once, the last failure
// says how many tries it took, and shutting down stops the retries.

import { describe, expect, it } from "vitest";
import { collectorExport, transientError, type CollectorPost, type ExportResult } from "./collector-post.ts";
import { fakeClock } from "../core/fake-clock.ts";
import { sleep, type Clock } from "../core/clock.ts";

/** An answer of the script: at once, or after `takesMs` on the fake clock (a slow collector). */
type Scripted = ExportResult & { takesMs?: number };

/** A collector POST that answers from a script, one result per call, and keeps the bodies and the time each try was given. */
function scripted(answers: Scripted[], clock: Clock, timeoutMs: number) {
  const bodies: Array<string | Uint8Array> = [];
  const given: number[] = [];
  let closed = false;
  const post = async (body: string | Uint8Array, ms: number): Promise<ExportResult> => {
    bodies.push(body);
    given.push(ms);
    const { takesMs, ...answer } = answers.shift() ?? { code: 0 };
    if (takesMs) await sleep(clock, takesMs);
    return answer;
  };
  return { bodies, given, closed: () => closed, post: Object.assign(post, { collector: "otlp", timeoutMs, close: async () => void (closed = true) }) as CollectorPost };
}

const transient: ExportResult = { code: 1, error: new Error("connect ECONNREFUSED"), retryable: true };
const refused: ExportResult = { code: 1, error: new Error("Got unexpected status code from otlp: 400"), retryable: false };

function exporter(answers: Scripted[], random = () => 0.5, timeoutMs = 10_000) {
  const fc = fakeClock();
  const s = scripted(answers, fc.clock, timeoutMs);
  const e = collectorExport(s.post, (span) => span, () => "batch", { clock: fc.clock, random, backoffMs: [250, 500, 1_000] });
  let result: ExportResult | null = null;
  const run = () => e.export([], (r) => void (result = r));
  /** Moves the clock on, lets the export's promise chain run, and says how many POSTs were made. */
  const after = async (ms: number) => {
    fc.advance(ms);
    await settle();
    return s.bodies.length;
  };
  return { fc, s, e, run, after, result: () => result };
}

/** Lets the export's promise chain run (the scripted POST answers at once). */
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("an export's retries", () => {
  it("sends the same body again after 250 and 500 ms, and succeeds when the collector does", async () => {
    const x = exporter([transient, transient]);
    x.run();
    expect(await x.after(0)).toBe(1);
    expect(await x.after(249)).toBe(1);
    expect(await x.after(1)).toBe(2);
    expect(await x.after(500)).toBe(3);
    expect(x.s.bodies).toEqual(["batch", "batch", "batch"]);
    // Each try is given what is left of the export's 10 s.
    expect(x.s.given).toEqual([10_000, 9_750, 9_250]);
    expect(x.result()).toEqual({ code: 0 });
  });

  it("does not retry what the collector refused, and gives up after three retries with the count in the error", async () => {
    const no = exporter([refused]);
    no.run();
    await settle();
    expect(no.s.bodies).toHaveLength(1);
    expect(no.fc.pending()).toBe(0);
    expect(no.result()).toEqual(refused);

    const down = exporter([transient, transient, transient, transient]);
    down.run();
    await settle();
    for (const wait of [250, 500, 1_000]) await down.after(wait);
    expect(down.s.bodies).toHaveLength(4);
    expect(down.result()?.code).toBe(1);
    expect(down.result()?.error?.message).toBe("connect ECONNREFUSED (4 tries)");
  });

  it("varies each wait by up to 20 % either way", async () => {
    const early = exporter([transient], () => 0);
    early.run();
    expect(await early.after(0)).toBe(1);
    expect(await early.after(199)).toBe(1);
    expect(await early.after(1)).toBe(2);
    const late = exporter([transient], () => 0.999_999);
    late.run();
    expect(await late.after(0)).toBe(1);
    expect(await late.after(299)).toBe(1);
    expect(await late.after(1)).toBe(2);
  });

  it("waits as long as the collector's Retry-After says instead of the backoff", async () => {
    const x = exporter([{ ...transient, retryAfterMs: 3_000 }, transient]);
    x.run();
    expect(await x.after(0)).toBe(1);
    expect(await x.after(2_999)).toBe(1);
    expect(await x.after(1)).toBe(2);
    // The next wait is the backoff's again (the second of three), 500 ms.
    expect(await x.after(499)).toBe(2);
    expect(await x.after(1)).toBe(3);
    expect(x.s.given).toEqual([10_000, 7_000, 6_500]);
    expect(x.result()).toEqual({ code: 0 });
  });

  it("gives up at once when Retry-After asks for longer than the export's timeout", async () => {
    const x = exporter([{ ...transient, retryAfterMs: 60_000 }]);
    x.run();
    await settle();
    expect(x.s.bodies).toHaveLength(1);
    expect(x.fc.pending()).toBe(0);
    expect(x.result()?.error?.message).toBe("connect ECONNREFUSED (1 try; the collector asked to wait 60000 ms, past the export's 10000 ms timeout)");
  });

  it("keeps every try and wait within the export's timeout: a slow collector's tries use it up, and no try starts without time left", async () => {
    // A collector that takes 4 s to refuse, under a 5 s timeout: one retry fits (250 ms wait, 750 ms left for it), a second does not.
    const x = exporter([{ ...transient, takesMs: 4_000 }, { ...transient, takesMs: 750 }, transient], () => 0.5, 5_000);
    x.run();
    expect(await x.after(4_000)).toBe(1);
    expect(await x.after(250)).toBe(2);
    expect(await x.after(750)).toBe(2);
    expect(x.fc.pending()).toBe(0);
    expect(x.s.given).toEqual([5_000, 750]);
    expect(x.result()?.error?.message).toBe("connect ECONNREFUSED (2 tries; the next would end past the export's 5000 ms timeout)");
  });

  it("stops retrying when it is shut down: the wait ends the export, and the client is closed", async () => {
    const x = exporter([transient, transient]);
    x.run();
    await settle();
    const shut = x.e.shutdown();
    x.fc.advance(250);
    await shut;
    expect(x.s.bodies).toHaveLength(1);
    expect(x.result()?.code).toBe(1);
    expect(x.s.closed()).toBe(true);
  });
});

describe("transientError", () => {
  const coded = (code: string, cause?: unknown) => Object.assign(new Error(code), { code }, cause ? { cause } : {});
  it("retries a refused, reset or timed-out connection, judged by the cause where there is one, and not a bad certificate", () => {
    expect(transientError(coded("ECONNREFUSED"))).toBe(true);
    expect(transientError(coded("ECONNRESET"))).toBe(true);
    expect(transientError(Object.assign(new Error("timed out"), { name: "TimeoutError" }))).toBe(true);
    // node:http2 cancels the pending stream and names the connection's failure as the cause.
    expect(transientError(coded("ERR_HTTP2_STREAM_CANCEL", coded("ECONNREFUSED")))).toBe(true);
    expect(transientError(coded("ERR_HTTP2_STREAM_CANCEL", coded("UNABLE_TO_VERIFY_LEAF_SIGNATURE")))).toBe(false);
    expect(transientError(coded("UNABLE_TO_VERIFY_LEAF_SIGNATURE"))).toBe(false);
    expect(transientError(coded("ERR_TLS_CERT_ALTNAME_INVALID"))).toBe(false);
    expect(transientError(new Error("no code"))).toBe(false);
    expect(transientError(null)).toBe(false);
  });
});
