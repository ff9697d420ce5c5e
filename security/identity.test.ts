// The workload identity's timing on a fake clock: renewal at 70 % of a certificate's life,
// backoff while renewal fails (the old certificate stays in force, the log says how long it has
// left), renewal at once when the source's files change, and retries of a source that is down.

import { describe, expect, it } from "vitest";
import { fakeClock } from "../core/fake-clock.ts";
import type { Logger } from "../core/log.ts";
import { CertError } from "./errors.ts";
import { type IdentitySource, WorkloadIdentity } from "./identity.ts";
import type { Issued } from "./material.ts";

const ID = { trustDomain: "public", namespace: "default", appId: "a" };
const HOUR = 3_600_000;

function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  const log = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), enabled: () => true } as unknown as Logger;
  return { log, lines };
}

/** A source whose certificates live `ttl` from the time asked; `fail` makes the next calls throw. */
function source(o: { renews?: boolean } = {}) {
  let n = 0;
  const s = {
    fail: null as Error | null,
    stampValue: "1",
    calls: 0,
    describe: "test source",
    renews: o.renews ?? true,
    stamp: () => s.stampValue,
    async obtain(_id: unknown, t: { ttlMs: number; now: number }): Promise<Issued> {
      s.calls++;
      if (s.fail) throw s.fail;
      n++;
      return { chainPem: `chain${n}`, keyPem: `key${n}`, trustPem: "trust", notBefore: t.now, notAfter: t.now + t.ttlMs, issuerNotAfter: t.now + 1000 * HOUR, rootsNotAfter: t.now + 2000 * HOUR, issuerName: "CN=issuer" };
    },
  };
  return s;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe("workload identity renewal", () => {
  it("renews at 70 % of the certificate's life and tells the transport each time", async () => {
    const fc = fakeClock();
    const src = source();
    const { log } = recordingLog();
    const wi = new WorkloadIdentity({ id: ID, source: src as IdentitySource, ttlMs: 10 * HOUR, skewMs: 0, clock: fc.clock, log, pollMs: 1000 });
    await wi.start();
    const seen: string[] = [];
    wi.onChange((m) => seen.push(`${m.chainPem}@${m.generation}`));
    expect(wi.current().chainPem).toBe("chain1");
    fc.advance(7 * HOUR - 1);
    await settle();
    expect(wi.current().chainPem).toBe("chain1");
    fc.advance(1);
    await settle();
    expect(wi.current().chainPem).toBe("chain2");
    fc.advance(7 * HOUR);
    await settle();
    expect(seen).toEqual(["chain2@2", "chain3@3"]);
    expect(wi.renewals).toBe(2);
    wi.stop();
  });

  it("keeps the current certificate while renewal fails, retries with backoff, and logs the time left", async () => {
    const fc = fakeClock();
    const src = source();
    const { log, lines } = recordingLog();
    const wi = new WorkloadIdentity({ id: ID, source: src as IdentitySource, ttlMs: 10 * HOUR, skewMs: 0, clock: fc.clock, log, pollMs: 3_600_000 });
    await wi.start();
    src.fail = new Error("sentry down");
    fc.advance(7 * HOUR);
    await settle();
    expect(wi.current().chainPem).toBe("chain1");
    const failures = lines.filter((l) => l.msg.startsWith("workload certificate renewal failed"));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.fields).toMatchObject({ error: "sentry down", expires_in: "3h" });
    // Backoff: 1 s, 2 s, 4 s... each failure logged; then the source comes back.
    const before = src.calls;
    fc.advance(1_000);
    await settle();
    fc.advance(2_000);
    await settle();
    expect(src.calls - before).toBe(2);
    src.fail = null;
    fc.advance(30_000);
    await settle();
    expect(wi.current().chainPem).toBe("chain2");
    wi.stop();
  });

  it("fetches again at once when the source's files change (a new bundle or issuer)", async () => {
    const fc = fakeClock();
    const src = source({ renews: false });
    const { log } = recordingLog();
    const wi = new WorkloadIdentity({ id: ID, source: src as IdentitySource, ttlMs: 10 * HOUR, skewMs: 0, clock: fc.clock, log, pollMs: 1000 });
    await wi.start();
    fc.advance(5_000);
    await settle();
    expect(wi.current().chainPem).toBe("chain1");
    src.stampValue = "2";
    fc.advance(1_000);
    await settle();
    expect(wi.current().chainPem).toBe("chain2");
    // A source that does not renew (files) is never asked on a timer.
    fc.advance(20 * HOUR);
    await settle();
    expect(wi.current().chainPem).toBe("chain2");
    wi.stop();
  });

  it("retries a source that is down at start, but fails at once on a certificate error", async () => {
    const fc = fakeClock();
    const src = source();
    src.fail = new Error("cannot reach the sentry at 10.0.0.1:50001");
    const { log, lines } = recordingLog();
    const wi = new WorkloadIdentity({ id: ID, source: src as IdentitySource, ttlMs: HOUR, skewMs: 0, clock: fc.clock, log });
    const started = wi.start();
    await settle();
    fc.advance(500);
    await settle();
    src.fail = null;
    fc.advance(1_000);
    await started;
    expect(wi.current().chainPem).toBe("chain1");
    expect(lines.filter((l) => l.level === "error")[0]!.fields?.error).toContain("10.0.0.1:50001");
    wi.stop();

    const bad = source();
    bad.fail = new CertError("the token expired");
    const wi2 = new WorkloadIdentity({ id: ID, source: bad as IdentitySource, ttlMs: HOUR, skewMs: 0, clock: fakeClock().clock, log });
    await expect(wi2.start()).rejects.toThrow("the token expired");
  });

  it("announces an expiry renewal could not prevent, and the recovery, so the sidecar leaves discovery meanwhile", async () => {
    const fc = fakeClock();
    const src = source();
    const { log } = recordingLog();
    const wi = new WorkloadIdentity({ id: ID, source: src as IdentitySource, ttlMs: HOUR, skewMs: 0, clock: fc.clock, log, pollMs: 3_600_000 });
    const events: string[] = [];
    wi.onExpired = (why) => events.push(`expired: ${why}`);
    wi.onRecovered = () => events.push("recovered");
    await wi.start();
    src.fail = new Error("sentry down");
    fc.advance(HOUR - 1);
    await settle();
    expect(events).toEqual([]);
    fc.advance(1);
    await settle();
    expect(events).toHaveLength(1);
    expect(events[0]).toContain("expired at");
    expect(events[0]).toContain("renewal from the test source keeps failing");
    src.fail = null;
    fc.advance(30_000);
    await settle();
    expect(events[1]).toBe("recovered");
    expect(wi.current().chainPem).toBe("chain2");
    wi.stop();
  });

  it("waits out certificates longer than a runtime timer can (60 days) instead of renewing at once", async () => {
    const fc = fakeClock();
    const src = source();
    const { log } = recordingLog();
    const wi = new WorkloadIdentity({ id: ID, source: src as IdentitySource, ttlMs: 60 * 24 * HOUR, skewMs: 0, clock: fc.clock, log, pollMs: 3_600_000 });
    await wi.start();
    fc.advance(41 * 24 * HOUR);
    await settle();
    expect(src.calls).toBe(1);
    fc.advance(2 * 24 * HOUR);
    await settle();
    expect(src.calls).toBe(2);
    wi.stop();
  });
});
