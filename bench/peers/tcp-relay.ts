// The runtime's floor for a proxy process: a Bun TCP relay that copies bytes between a client
// connection and its own upstream connection. No HTTP parsing, no routing, no policy; a peer in
// the benchmark only, to show what any Bun sidecar pays before it does any work of its own.

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
if (!listenPort || !upstreamPort) throw new Error("usage: tcp-relay.ts <listen-port> <upstream-port>");

interface Side {
  peer: Bun.Socket<Side> | null;
  /** Bytes for this socket that it did not take yet (not connected, or its buffer was full). */
  queued: Uint8Array[];
}

/** Writes what the socket takes now and queues the rest for its drain. */
function send(to: Bun.Socket<Side>, b: Uint8Array): void {
  if (to.data.queued.length) {
    to.data.queued.push(b);
    return;
  }
  const n = to.write(b);
  if (n < b.byteLength) to.data.queued.push(b.subarray(Math.max(0, n)));
}

function drain(s: Bun.Socket<Side>): void {
  const q = s.data.queued;
  while (q.length) {
    const b = q[0]!;
    const n = s.write(b);
    if (n < b.byteLength) {
      q[0] = b.subarray(Math.max(0, n));
      return;
    }
    q.shift();
  }
}

// Bun hands each data callback a fresh buffer (pinned in test/e2e/bun-gaps.test.ts), so queued
// chunks need no copy.
Bun.listen<Side & { upstreamQueue: Uint8Array[] }>({
  hostname: "127.0.0.1",
  port: listenPort,
  socket: {
    open(client) {
      // Bytes the client sends before the upstream connection opens wait in its queue.
      client.data = { peer: null, queued: [], upstreamQueue: [] };
      void Bun.connect<Side>({
        hostname: "127.0.0.1",
        port: upstreamPort,
        socket: {
          open(up) {
            up.data = { peer: client, queued: client.data.upstreamQueue };
            client.data.peer = up;
            drain(up);
          },
          data: (_up, b) => send(client, b),
          drain,
          close: () => void client.end(),
          error: () => {},
        },
      }).catch(() => client.end());
    },
    data(client, b) {
      if (client.data.peer) send(client.data.peer, b);
      else client.data.upstreamQueue.push(b);
    },
    drain,
    close: (client) => void client.data.peer?.end(),
    error: () => {},
  },
});
