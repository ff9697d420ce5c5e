// A trace collector on loopback for the exporter tests: keeps each POST's headers and JSON body
// and answers with the status and headers the test sets (a body that is not JSON gets 400).

import http from "node:http";
import type { AddressInfo } from "node:net";

export interface CollectorReceiver {
  readonly url: string;
  readonly posts: Array<{ headers: http.IncomingHttpHeaders; body: unknown }>;
  status: number;
  /** Sent with each answer besides its content-type (e.g. retry-after). */
  headers: Record<string, string>;
  close(): Promise<void>;
}

export async function collectorReceiver(path: string, status: number): Promise<CollectorReceiver> {
  const posts: CollectorReceiver["posts"] = [];
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      try {
        posts.push({ headers: req.headers, body: JSON.parse(text) as unknown });
        res.writeHead(rx.status, { ...rx.headers, "content-type": "application/json" }).end("{}");
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const rx: CollectorReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    posts,
    status,
    headers: {},
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return rx;
}
