// Run by Bun (test/e2e/bun-gaps.test.ts): does a Bun.connect `data` callback get a fresh buffer
// each time, or one Bun reuses after the callback returns? The event-loop dialer keeps views of
// these buffers without copying, so it relies on the former. Prints what the kept chunks hold.
const srv = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.write(Buffer.alloc(70_000, 97));
      setTimeout(() => s.write(Buffer.alloc(70_000, 98)), 30);
      setTimeout(() => s.write(Buffer.alloc(500, 99)), 60);
      setTimeout(() => s.end(), 90);
    },
    data() {},
  },
});
const kept: Buffer[] = [];
await Bun.connect({
  hostname: "127.0.0.1",
  port: srv.port,
  socket: {
    data(_s, b) {
      kept.push(b);
    },
    close() {
      const letters = kept.map((b) => [...new Set(b)].map((c) => String.fromCharCode(c)).join(""));
      console.log(JSON.stringify({ chunks: kept.length, letters, bytes: kept.reduce((n, b) => n + b.byteLength, 0) }));
      srv.stop(true);
    },
  },
});
export {};
