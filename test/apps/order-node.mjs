// The seed's "nodeapp", written for meshlet's tests: on POST /neworder ({"data":{"orderId":N}}) it
// saves [{"key":"order","value":data}] to the sidecar's statestore, and GET /order returns the
// saved order as the sidecar gives it. The sidecar comes from DAPR_HTTP_ENDPOINT (as Dapr's
// hello-kubernetes app), else DAPR_HTTP_PORT (hello-world), else localhost:3500.
import http from "node:http";

const sidecar = process.env.DAPR_HTTP_ENDPOINT || `http://localhost:${process.env.DAPR_HTTP_PORT || 3500}`;
const stateUrl = `${sidecar}/v1.0/state/statestore`;
const port = Number(process.env.APP_PORT || 3000);

async function body(req) {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

http
  .createServer(async (req, res) => {
    try {
      if (req.method === "POST" && req.url === "/neworder") {
        const data = JSON.parse(await body(req)).data;
        console.log(`Got a new order! Order ID: ${data.orderId}`);
        const saved = await fetch(stateUrl, { method: "POST", body: JSON.stringify([{ key: "order", value: data }]), headers: { "content-type": "application/json" } });
        if (!saved.ok) throw new Error(`state save answered ${saved.status}: ${await saved.text()}`);
        console.log("Successfully persisted state.");
        res.writeHead(200).end();
        return;
      }
      if (req.method === "GET" && req.url === "/order") {
        const r = await fetch(`${stateUrl}/order`);
        res.writeHead(200, { "content-type": "application/json" }).end(await r.text());
        return;
      }
      res.writeHead(404).end();
    } catch (e) {
      console.log(`error: ${e.message}`);
      res.writeHead(500).end(e.message);
    }
  })
  .listen(port, "127.0.0.1", () => console.log(`Node App listening on port ${port}!`));
