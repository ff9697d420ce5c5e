// Peer forwarder built on http-proxy (the package Dapr-style Node sidecars reach for), for the
// benchmark's comparison row: listens on PORT, forwards every request to TARGET.
const http = require("node:http");
const httpProxy = require("http-proxy");

const port = Number(process.env.PORT);
const target = process.env.TARGET;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target, agent, xfwd: false });
proxy.on("error", (_e, _req, res) => {
  if (!res.headersSent) res.writeHead(502);
  res.end();
});
http.createServer((req, res) => proxy.web(req, res)).listen(port, "127.0.0.1", () => console.log(`http-proxy ${port} -> ${target}`));
