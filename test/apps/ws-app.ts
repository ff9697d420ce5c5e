// A real WebSocket app for the tunnel tests (Bun.serve's own WebSocket server): on /chat it greets
// with the caller headers it was given, echoes text, answers "big:N" with N binary bytes and
// "close:CODE" by closing with that code; /count tells how many sockets it saw close.
// Port from APP_PORT.

const port = Number(process.env.APP_PORT || 3000);
let closed = 0;

interface Data {
  caller: string;
}

Bun.serve<Data>({
  port,
  hostname: "127.0.0.1",
  fetch(req, server) {
    const url = new URL(req.url);
    if (url.pathname === "/count") return Response.json({ closed });
    if (url.pathname === "/chat") {
      const caller = req.headers.get("dapr-caller-app-id") ?? "";
      if (server.upgrade(req, { data: { caller } })) return undefined;
      return new Response("expected a WebSocket handshake\n", { status: 426 });
    }
    return new Response("not found\n", { status: 404 });
  },
  websocket: {
    open(ws) {
      ws.send(`hello ${ws.data.caller}`);
    },
    message(ws, msg) {
      if (typeof msg !== "string") return void ws.send(msg);
      if (msg.startsWith("big:")) return void ws.send(new Uint8Array(Number(msg.slice(4))).fill(120));
      if (msg.startsWith("close:")) return ws.close(Number(msg.slice(6)), "asked to");
      ws.send(`echo ${msg}`);
    },
    close() {
      closed++;
      console.log(`ws closed (${closed})`);
    },
  },
});
console.log(`ws app listening on ${port}`);
export {};
