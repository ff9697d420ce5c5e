// Load generator for the benchmark (runs on Node): autocannon at a fixed rate or flat out,
// recording every response time in microseconds from autocannon's 'response' event (stock
// autocannon's histogram keeps whole milliseconds). Prints one JSON result on stdout.
//
// Two fixed-rate shapes. `pace: "even"` (default) spreads the requests evenly over time, one
// every 1/rate s on whichever connection is idle, like wrk2 or fortio -uniform (Dapr's published
// figures come from fortio). `pace: "burst"` is stock `autocannon -R`: each connection sends its
// share for the second back to back at the top of each second, so latency there is mostly the
// time to drain a 20-deep queue, not what one call costs.
import autocannon from "autocannon";
import { evenPacer } from "../cli/pacer.mjs";
import { quantile as q } from "../cli/quantile.mjs";

const o = JSON.parse(process.argv[2]);
const body = o.bodyBytes ? Buffer.alloc(o.bodyBytes, 120) : undefined;
const even = Boolean(o.rate) && o.pace !== "burst";
const lat = [];
const statuses = {};

const pacer = even ? evenPacer(o.rate) : null;
const inst = autocannon({
  url: o.url,
  method: o.method ?? (body ? "POST" : "GET"),
  body,
  headers: body ? { "content-type": "application/octet-stream" } : undefined,
  connections: o.connections ?? 20,
  duration: o.duration,
  overallRate: even ? undefined : o.rate || undefined,
  setupClient: pacer ? pacer.setupClient : undefined,
  timeout: 10,
});
pacer?.start();
inst.on("response", (_client, status, _bytes, ms) => {
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status >= 200 && status < 400) lat.push(ms);
});
inst.on("done", (r) => {
  pacer?.stop();
  lat.sort((a, b) => a - b);
  const lag = pacer ? [...pacer.lags].sort((a, b) => a - b) : [];
  const ok = lat.length;
  // Evenly paced, the rate counts from the first paced request (connections open before it).
  const seconds = pacer?.startedAt ? (performance.now() - pacer.startedAt) / 1000 : r.duration;
  process.stdout.write(
    JSON.stringify({
      requests: r.requests.total,
      ok,
      rps: ok / seconds,
      // The seconds the load ran (rps and the harness's vCPU count over them).
      seconds,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      statuses,
      pace: o.rate ? (even ? "even" : "burst") : "max",
      p50: q(lat, 50),
      p90: q(lat, 90),
      p99: q(lat, 99),
      p999: q(lat, 99.9),
      // How late the pacer released requests (ms): large values mean the run fell behind its rate.
      lagP99: even ? q(lag, 99) : null,
      durationS: r.duration,
      // Every response time (ms), when asked: the harness pools the rounds of one path.
      latencies: o.raw ? lat : undefined,
    }) + "\n",
  );
});
