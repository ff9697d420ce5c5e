// App health on a fake clock: a refused connection confirmed by quick probes makes the app
// unhealthy (and starts recovery probes), probes bring it back, periodic checks follow daprd's threshold, and calls to
// a down app are refused as never delivered.

import { describe, expect, it } from "vitest";
import { fakeClock } from "../core/fake-clock.ts";
import { HeaderList } from "../core/header-list.ts";
import type { CallContext } from "../core/call.ts";
import { SidecarError } from "../core/errors.ts";
import { APP_HEALTH_DEFAULTS, AppHealth, appHealthLayer, CONFIRM_PROBE_MS, RECOVERY_PROBE_MS } from "./app-health.ts";

/** Lets the probe's promise settle after a timer fired it. */
const settle = () => new Promise((r) => setImmediate(r));

function setup(enabled: boolean, verdicts: Array<string | null>) {
  const { clock, advance } = fakeClock();
  const changes: string[] = [];
  let probes = 0;
  const h = new AppHealth(
    { ...APP_HEALTH_DEFAULTS, enabled },
    async () => {
      probes++;
      return verdicts.length ? verdicts.shift()! : null;
    },
    clock,
    (healthy, why) => changes.push(`${healthy ? "healthy" : "unhealthy"}: ${why}`),
  );
  return { h, advance, changes, probes: () => probes };
}

describe("app health", () => {
  it("without checks: a refusal is confirmed by quick TCP probes; at the threshold the app is down, and probes every second bring it back", async () => {
    const { h, advance, changes, probes } = setup(false, ["ECONNREFUSED", "ECONNREFUSED", "ECONNREFUSED", null]);
    h.start();
    advance(60_000);
    expect(probes()).toBe(0);
    h.refused("connection refused by the app");
    expect(h.healthy).toBe(true);
    advance(CONFIRM_PROBE_MS);
    await settle();
    expect(h.healthy).toBe(true);
    advance(CONFIRM_PROBE_MS);
    await settle();
    expect(h.healthy).toBe(false);
    expect(changes).toEqual(["unhealthy: app health: 3 failures in a row, last: ECONNREFUSED"]);
    expect(h.why).toBe("ECONNREFUSED");
    advance(RECOVERY_PROBE_MS);
    await settle();
    expect(h.healthy).toBe(false);
    advance(RECOVERY_PROBE_MS);
    await settle();
    expect(h.healthy).toBe(true);
    expect(changes.at(-1)).toBe("healthy: app health probe succeeded");
    // Healthy again, and no more probes without checks enabled.
    advance(60_000);
    await settle();
    expect(probes()).toBe(4);
  });

  it("without checks: a refusal the next probe contradicts is forgotten, and none count before the app first listened", async () => {
    const { h, advance, probes } = setup(false, [null, null]);
    for (let i = 0; i < 5; i++) h.refused("refused");
    expect(probes()).toBe(0);
    h.start();
    h.refused("refused");
    advance(CONFIRM_PROBE_MS);
    await settle();
    h.refused("refused");
    advance(CONFIRM_PROBE_MS);
    await settle();
    expect(h.healthy).toBe(true);
    expect(probes()).toBe(2);
    advance(60_000);
    await settle();
    expect(probes()).toBe(2);
  });

  it("with checks: probes every interval, unhealthy after the threshold, healthy after one good probe", async () => {
    const { h, advance, changes, probes } = setup(true, [null, "/healthz answered 503", "/healthz answered 503", "/healthz answered 503", null]);
    h.start();
    for (let i = 0; i < 3; i++) {
      advance(APP_HEALTH_DEFAULTS.intervalMs);
      await settle();
    }
    expect(h.healthy).toBe(true);
    advance(APP_HEALTH_DEFAULTS.intervalMs);
    await settle();
    expect(h.healthy).toBe(false);
    expect(changes).toEqual(["unhealthy: app health: 3 failures in a row, last: /healthz answered 503"]);
    advance(APP_HEALTH_DEFAULTS.intervalMs);
    await settle();
    expect(h.healthy).toBe(true);
    expect(probes()).toBe(5);
    h.stop();
    advance(60_000);
    await settle();
    expect(probes()).toBe(5);
  });

  it("refuses calls to a down app as never delivered, and passes them when it is up", async () => {
    const { h } = setup(false, []);
    h.start();
    const call = appHealthLayer(h)(async () => new Response("ok"));
    const ctx = { appId: "orders", namespace: "default", signal: new AbortController().signal } as CallContext;
    const req = { method: "POST", path: "/x", query: "", headers: new HeaderList(), body: null };
    expect((await call(req, ctx)).status).toBe(200);
    for (let i = 0; i < 3; i++) h.refused("refused");
    const e = (await call(req, ctx).catch((x: unknown) => x)) as SidecarError;
    expect(e).toBeInstanceOf(SidecarError);
    expect(e.reason).toBe("app_unhealthy");
    expect(e.neverSent).toBe(true);
  });
});
