// Scale checks: sidecar memory at 10 and 1,000 client connections, memory growth while a
// 100 MB response streams through two sidecars, and one caller in front of many instances.

import { freePort, load, type Harness } from "./harness.ts";
import { memory } from "./proc.ts";
import type { ScaleResult } from "./report.ts";

async function rssDuring(pid: number, run: Promise<unknown>): Promise<number> {
  let peak = 0;
  const t = setInterval(() => (peak = Math.max(peak, memory(pid).rssMb)), 100);
  await run;
  clearInterval(t);
  return Math.max(peak, memory(pid).rssMb);
}

export async function scaleChecks(h: Harness, appPort: number, o: { quick: boolean; rate: number; bodyBytes: number }): Promise<ScaleResult> {
  const secs = o.quick ? 2 : 10;
  // Connections: the same rate spread over 10 and over 1,000 client connections.
  const port = await freePort();
  const one = await h.sidecar("app", port, appPort);
  const url = `http://127.0.0.1:${port}/v1.0/invoke/app/method/x`;
  process.stderr.write(`scale: RSS at 10 and 1000 connections ...\n`);
  await load({ url, rate: o.rate, duration: 1, connections: 10, bodyBytes: o.bodyBytes });
  const at10 = await rssDuring(one.pid!, load({ url, rate: o.rate, duration: secs, connections: 10, bodyBytes: o.bodyBytes }));
  const at1000 = await rssDuring(one.pid!, load({ url, rate: o.rate, duration: secs, connections: 1000, bodyBytes: o.bodyBytes }));
  await h.stop(one);

  // A 100 MB response through two sidecars.
  process.stderr.write(`scale: 100 MB streamed through two sidecars ...\n`);
  const callee = await h.sidecar("app", await freePort(), appPort);
  const cport = await freePort();
  const caller = await h.sidecar("client", cport, null);
  const bigUrl = `http://127.0.0.1:${cport}/v1.0/invoke/app/method/big`;
  await (await fetch(`${bigUrl}?mb=1`)).arrayBuffer();
  const base = { caller: memory(caller.pid!).rssMb, callee: memory(callee.pid!).rssMb };
  const peak = { ...base };
  const t = setInterval(() => {
    peak.caller = Math.max(peak.caller, memory(caller.pid!).rssMb);
    peak.callee = Math.max(peak.callee, memory(callee.pid!).rssMb);
  }, 20);
  const res = await fetch(`${bigUrl}?mb=100`);
  const reader = res.body!.getReader();
  while (!(await reader.read()).done);
  clearInterval(t);
  await h.stop(callee);

  // Many instances of one app-id behind the caller (all in front of the one app).
  const instances = o.quick ? 4 : 10;
  process.stderr.write(`scale: ${instances} instances of one app-id ...\n`);
  const fan = [];
  for (let i = 0; i < instances; i++) fan.push(await h.sidecar("fan", await freePort(), appPort));
  const fanLoad = await load({ url: `http://127.0.0.1:${cport}/v1.0/invoke/fan/method/x`, rate: o.rate, duration: secs, connections: 20, bodyBytes: o.bodyBytes });
  const served = fan.filter((s) => (memory(s.pid!).rssMb > 0 ? true : false)).length;
  for (const s of fan) await h.stop(s);
  await h.stop(caller);
  return {
    rssMbAt10Connections: at10,
    rssMbAt1000Connections: at1000,
    streamRssGrowthMb: { caller: peak.caller - base.caller, callee: peak.callee - base.callee },
    fanout: { instances, load: fanLoad, instancesServed: served },
  };
}
