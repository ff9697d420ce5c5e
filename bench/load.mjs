// Load generator for the benchmark (runs on Node): autocannon at a fixed rate or flat out,
// recording every response time in microseconds from autocannon's 'response' event (stock
// autocannon's histogram keeps whole milliseconds). Prints one JSON result on stdout.
import autocannon from "autocannon";

const o = JSON.parse(process.argv[2]);
const body = o.bodyBytes ? Buffer.alloc(o.bodyBytes, 120) : undefined;
const lat = [];
const statuses = {};
const inst = autocannon({
  url: o.url,
  method: o.method ?? (body ? "POST" : "GET"),
  body,
  headers: body ? { "content-type": "application/octet-stream" } : undefined,
  connections: o.connections ?? 20,
  duration: o.duration,
  overallRate: o.rate || undefined,
  timeout: 10,
});
inst.on("response", (_client, status, _bytes, ms) => {
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status >= 200 && status < 400) lat.push(ms);
});
inst.on("done", (r) => {
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : null);
  const ok = lat.length;
  process.stdout.write(
    JSON.stringify({
      requests: r.requests.total,
      ok,
      rps: ok / r.duration,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      statuses,
      p50: q(50),
      p90: q(90),
      p99: q(99),
      p999: q(99.9),
      durationS: r.duration,
    }) + "\n",
  );
});
