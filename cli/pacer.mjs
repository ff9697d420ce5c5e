// Even pacing for autocannon at a fixed rate: connections park when idle and one dispatcher
// releases a request every 1/rate s to the next idle one (as wrk2 or fortio -uniform do). Stock
// `autocannon -R` instead sends each connection's share of the second back to back at the top of
// the second. Plain JS: the benchmark's load generator runs it on Node, `meshlet bench` on Bun.

/** Hook for autocannon's `setupClient`, plus start/stop and the release lags (ms) seen. */
export function evenPacer(rate) {
  const idle = [];
  const send = new Map();
  const lags = [];
  const period = 1000 / rate;
  let t0 = 0;
  let sent = 0;
  let timer = null;
  let armed = false;
  let started = false;
  let stopped = false;
  const tick = () => {
    const now = performance.now();
    while (idle.length && t0 + sent * period <= now) {
      const c = idle.shift();
      c.parked = false;
      if (c.destroyed) continue;
      lags.push(now - (t0 + sent * period));
      sent++;
      send.get(c).call(c);
    }
    // Wake for the next due request (timers have 1 ms granularity; a backlog catches up).
    if (!stopped) timer = setTimeout(tick, Math.max(0, t0 + sent * period - performance.now()));
  };
  // The clock starts when the first connection is ready: slots that fell due while connections
  // were still opening would otherwise go out together as one burst at the start.
  const begin = () => {
    if (!armed || started || stopped) return;
    started = true;
    t0 = performance.now();
    tick();
  };
  return {
    lags,
    setupClient(c) {
      send.set(c, c._doRequest);
      c._doRequest = function park() {
        if (this.destroyed) return;
        if (!this.parked) {
          this.parked = true;
          idle.push(this);
          begin();
        }
      };
    },
    start() {
      armed = true;
      if (idle.length) begin();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    /** When pacing began (performance.now()), or 0 before any connection was ready. */
    get startedAt() {
      return started ? t0 : 0;
    },
  };
}
