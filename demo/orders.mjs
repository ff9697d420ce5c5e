// Demo app "orders": accepts new orders, and confirms each one by calling the checkout app back
// by app-id through its own sidecar (DAPR_HTTP_PORT). Plain node:http, no SDK needed.
import http from "node:http";

const sidecar = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT}`;
http
  .createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    if (req.method === "POST" && req.url === "/neworder") {
      const order = JSON.parse(body);
      console.log(`received order ${order.id} (${order.item}) from ${req.headers["dapr-caller-app-id"]}`);
      const r = await fetch(`${sidecar}/v1.0/invoke/checkout/method/confirm/${order.id}`);
      const confirmation = await r.json();
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ accepted: order.id, confirmation }));
      return;
    }
    res.writeHead(404).end();
  })
  .listen(Number(process.env.APP_PORT), "127.0.0.1", () => console.log(`orders app listening on ${process.env.APP_PORT}`));
