// Demo app "checkout": places three orders with the orders app by app-id through its sidecar,
// answers the confirmations orders sends back, prints each round trip, then exits 0.
import http from "node:http";

const sidecar = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT}`;
const server = http
  .createServer((req, res) => {
    const id = req.url.split("/").pop();
    console.log(`confirming order ${id} for ${req.headers["dapr-caller-app-id"]}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ order: Number(id), status: "confirmed" }));
  })
  .listen(Number(process.env.APP_PORT), "127.0.0.1");

// Wait until our own sidecar says the app is reachable (as SDKs do with /v1.0/metadata).
for (let i = 0; i < 100; i++) {
  const ok = await fetch(`${sidecar}/v1.0/healthz`).then((r) => r.status === 204, () => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

const items = ["coffee", "bagel", "juice"];
for (let i = 0; i < items.length; i++) {
  const order = { id: i + 1, item: items[i] };
  for (let attempt = 0; ; attempt++) {
    const t0 = performance.now();
    const r = await fetch(`${sidecar}/v1.0/invoke/orders/method/neworder`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(order),
    });
    const text = await r.text();
    // orders may still be starting: wait for it to register, then go on.
    if (r.headers.get("meshlet-reason") === "app_id_not_found" && attempt < 50) {
      await new Promise((res) => setTimeout(res, 100));
      continue;
    }
    console.log(`order ${order.id} -> HTTP ${r.status} in ${(performance.now() - t0).toFixed(1)} ms: ${text}`);
    if (r.status !== 201) process.exit(1);
    break;
  }
}
server.close();
console.log("checkout done: 3 orders placed and confirmed through two meshlet sidecars");
