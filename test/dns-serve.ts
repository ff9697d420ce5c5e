// The test DNS server as a process of its own, for a network namespace the test process cannot
// bind in: `bun test/dns-serve.ts <host> <port> '<records as JSON>'`; prints "ready" once bound.

import { type Rr, TestDnsServer } from "./dns-server.ts";

const [host, port, records] = process.argv.slice(2);
const dns = await new TestDnsServer().start(host, Number(port));
dns.records = JSON.parse(records!) as Rr[];
console.log("ready");
