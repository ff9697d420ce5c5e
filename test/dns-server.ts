// A tiny authoritative DNS server on loopback UDP for tests: serves SRV, A and AAAA records from
// a table the test controls (e.g. a headless Service with three pods). Built on dns-packet.

import dgram from "node:dgram";
import * as packet from "dns-packet";

export interface Rr {
  name: string;
  type: "A" | "AAAA" | "SRV";
  ttl: number;
  data: string | { port: number; target: string; priority?: number; weight?: number };
}

export class TestDnsServer {
  records: Rr[] = [];
  queries: string[] = [];
  private readonly sock = dgram.createSocket("udp4");
  port = 0;

  /** Listens on `host:port` (loopback and a free port by default). */
  async start(host = "127.0.0.1", port = 0): Promise<this> {
    this.sock.on("message", (msg, rinfo) => {
      let q: packet.Packet;
      try {
        q = packet.decode(msg);
      } catch {
        return;
      }
      const question = q.questions?.[0];
      if (!question) return;
      this.queries.push(`${question.type} ${question.name}`);
      const answers = this.records
        .filter((r) => r.name.toLowerCase() === question.name.toLowerCase() && r.type === question.type)
        .map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, class: "IN", data: r.type === "SRV" ? { priority: 0, weight: 10, ...(r.data as object) } : r.data }));
      const exists = this.records.some((r) => r.name.toLowerCase() === question.name.toLowerCase());
      const res = packet.encode({
        id: q.id,
        type: "response",
        flags: packet.AUTHORITATIVE_ANSWER | (exists || answers.length ? 0 : 3), // rcode 3 = NXDOMAIN
        questions: q.questions,
        answers: answers as packet.Answer[],
      });
      this.sock.send(res, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => this.sock.bind(port, host, () => r()));
    this.port = this.sock.address().port;
    this.host = host;
    return this;
  }

  private host = "127.0.0.1";

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** A headless Service: SRV `_dapr-internal._tcp.<svc>` to one A record per pod. */
  headless(svc: string, pods: Array<{ ip: string; port: number }>, ttl = 30): void {
    this.records = this.records.filter((r) => !r.name.endsWith(svc));
    pods.forEach((p, i) => {
      const target = `pod-${i}.${svc}`;
      this.records.push({ name: `_dapr-internal._tcp.${svc}`, type: "SRV", ttl, data: { port: p.port, target } });
      this.records.push({ name: target, type: p.ip.includes(":") ? "AAAA" : "A", ttl, data: p.ip });
      this.records.push({ name: svc, type: p.ip.includes(":") ? "AAAA" : "A", ttl, data: p.ip });
    });
  }

  close(): void {
    this.sock.close();
  }
}
