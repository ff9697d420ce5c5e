// The soak's app: answers GET at once, and appends the id of every POST it receives to its own
// file before answering, so the soak can count deliveries (and duplicates) across restarts.
//   bun bench/soak-app.ts <port> <ids-file>

import fs from "node:fs";

const [port, idsFile] = [Number(process.argv[2]), process.argv[3]!];
const fd = fs.openSync(idsFile, "a");
Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch(req) {
    if (req.method === "POST") {
      const id = new URL(req.url).searchParams.get("id") ?? "?";
      await req.arrayBuffer();
      fs.writeSync(fd, `${id}\n`);
    }
    return new Response("ok");
  },
});
