// The seed's "pythonapp" role, in Node for meshlet's tests: every second it posts
// {"data":{"orderId":n}} to its own sidecar's /neworder with the header dapr-app-id: nodeapp,
// so the sidecar invokes nodeapp. ORDER_INTERVAL_MS changes the pace (tests use 200).
const sidecar = process.env.DAPR_HTTP_ENDPOINT || `http://localhost:${process.env.DAPR_HTTP_PORT || 3500}`;
const every = Number(process.env.ORDER_INTERVAL_MS || 1000);
let n = 0;
setInterval(async () => {
  n++;
  try {
    const r = await fetch(`${sidecar}/neworder`, { method: "POST", body: JSON.stringify({ data: { orderId: n } }), headers: { "content-type": "application/json", "dapr-app-id": "nodeapp" } });
    console.log(`order ${n}: ${r.status}`);
  } catch (e) {
    console.log(`order ${n}: ${e.message}`);
  }
}, every);
