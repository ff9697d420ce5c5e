// One collector POST against a real receiver on loopback, through node:http and through a runtime
// dialer: a 429 or 503 carries the collector's Retry-After (seconds or a date) to the export's
// retry loop, other statuses do not, and a try gives up after the time it was given.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { collectorPost } from "./collector-post.ts";
import { undiciDialer } from "../runtime/dial-undici.ts";
import { collectorReceiver, type CollectorReceiver } from "../test/collector-receiver.ts";

let rx: CollectorReceiver;
beforeAll(async () => {
  rx = await collectorReceiver("/v1/traces", 200);
});
afterAll(() => rx.close());

const options = { name: "otlp", contentType: "application/json", timeoutMs: 10_000 };

describe.each([
  ["node:http", () => null],
  ["a runtime dialer", () => undiciDialer()],
])("a collector POST through %s", (_, dialer) => {
  it("hands a 429's or 503's Retry-After to the retries, in seconds or as a date, and ignores it on other statuses", async () => {
    const post = collectorPost(rx.url, options, dialer());
    try {
      const answer = async (status: number, retryAfter: string) => {
        rx.status = status;
        rx.headers = { "retry-after": retryAfter };
        return post("{}", 5_000);
      };
      expect(await answer(503, "3")).toMatchObject({ code: 1, retryable: true, retryAfterMs: 3_000 });
      expect(await answer(429, "0")).toMatchObject({ code: 1, retryable: true, retryAfterMs: 0 });
      const date = await answer(503, new Date(Date.now() + 20_000).toUTCString());
      // An HTTP date has whole seconds: 19-20 s from now.
      expect(date.retryAfterMs).toBeGreaterThan(18_000);
      expect(date.retryAfterMs).toBeLessThanOrEqual(20_000);
      expect((await answer(502, "3")).retryAfterMs).toBeUndefined();
      expect((await answer(503, "soon")).retryAfterMs).toBeUndefined();
      expect(await answer(200, "3")).toEqual({ code: 0 });
    } finally {
      rx.status = 200;
      rx.headers = {};
      await post.close();
    }
  });

  it("gives up a try whose collector drips its answer past the time it was given", async () => {
    const drip = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const t = setInterval(() => res.write(" "), 50);
      res.on("close", () => clearInterval(t));
    });
    await new Promise<void>((r) => drip.listen(0, "127.0.0.1", r));
    const post = collectorPost(`http://127.0.0.1:${(drip.address() as AddressInfo).port}/v1/traces`, options, dialer());
    try {
      const t0 = performance.now();
      const r = await post("{}", 400);
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(r).toMatchObject({ code: 1, retryable: true });
    } finally {
      await post.close();
      drip.closeAllConnections();
      await new Promise<void>((r) => drip.close(() => r()));
    }
  });

  it("gives up a try after the time it was given, retryable", async () => {
    const silent = http.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const post = collectorPost(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/traces`, options, dialer());
    try {
      const t0 = performance.now();
      const r = await post("{}", 300);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(5_000);
      expect(r).toMatchObject({ code: 1, retryable: true });
    } finally {
      await post.close();
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
