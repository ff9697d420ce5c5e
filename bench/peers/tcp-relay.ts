// The runtime's floor for a proxy process: a Bun TCP relay that copies bytes between a client
// connection and its own upstream connection. No HTTP parsing, no routing, no policy; a peer in
// the benchmark only, to show what any Bun sidecar pays before it does any work of its own.

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
if (!listenPort || !upstreamPort) throw new Error("usage: tcp-relay.ts <listen-port> <upstream-port>");

interface Side {
  peer: Bun.Socket<Side> | null;
  pending: Uint8Array[];
}

Bun.listen<Side>({
  hostname: "127.0.0.1",
  port: listenPort,
  socket: {
    open(client) {
      client.data = { peer: null, pending: [] };
      void Bun.connect<Side>({
        hostname: "127.0.0.1",
        port: upstreamPort,
        socket: {
          open(up) {
            up.data = { peer: client, pending: [] };
            client.data.peer = up;
            for (const b of client.data.pending) up.write(b);
            client.data.pending = [];
          },
          data: (up, b) => void up.data.peer?.write(b),
          close: (up) => void up.data.peer?.end(),
          error: () => {},
        },
      }).catch(() => client.end());
    },
    // Bun hands each data callback a fresh buffer (pinned in test/e2e/bun-gaps.test.ts).
    data: (client, b) => void (client.data.peer ? client.data.peer.write(b) : client.data.pending.push(b)),
    close: (client) => void client.data.peer?.end(),
    error: () => {},
  },
});
