// The server connection on a fake wire and a fake clock: order of pipelined answers, backpressure
// on the socket, early answers, half-close, and the head and idle timeouts.

import { describe, expect, it } from "vitest";
import { ServerConn } from "./h1-server.ts";
import { HEAD_TIMEOUT_MS, IDLE_TIMEOUT_MS, STREAM_IDLE_MS } from "./server-contract.ts";
import { FakeServerWire } from "../test/fake-wires.ts";
import type { Handler, Incoming } from "../core/incoming.ts";
import { textResponse } from "../core/wire-response.ts";
import { parseResponses } from "../test/raw-http.ts";

function setup(handler: Handler) {
  let t = 0;
  const wire = new FakeServerWire();
  const conn = new ServerConn(wire, { address: "127.0.0.1", port: 1 }, { handler, maxHeaderBytes: 4096, now: () => t });
  const send = (s: string) => conn.onData(Buffer.from(s, "latin1"));
  return { wire, conn, send, advance: (ms: number) => (t += ms), now: () => t };
}

const tick = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nhost: x\r\n${extra}\r\n`;

describe("server connection", () => {
  it("writes the delivery receipt (102) before the answer, only while the request is unanswered", async () => {
    let later: (() => void) | null = null;
    let receipt: (() => void) | null = null;
    const { wire, send } = setup(
      (req: Incoming) =>
        new Promise((resolve) => {
          receipt = req.receipt!;
          receipt();
          later = () => resolve(textResponse("done", { status: 200 }));
        }),
    );
    send(get("/a"));
    await tick();
    expect(wire.text()).toBe("HTTP/1.1 102 Processing\r\n\r\n");
    later!();
    await tick();
    // Too late: the request is answered; nothing more is written for it.
    receipt!();
    expect(wire.text().match(/HTTP\/1\.1 102/g)).toHaveLength(1);
    expect(wire.text()).toMatch(/^HTTP\/1\.1 102 Processing\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*done$/);
  });

  it("answers pipelined requests in order although the first one finishes last", async () => {
    const release: (() => void)[] = [];
    const { wire, send } = setup(
      (req: Incoming) =>
        new Promise((resolve) => {
          const r = textResponse(req.target, { status: 200 });
          if (req.target === "/slow") release.push(() => resolve(r));
          else resolve(r);
        }),
    );
    send(get("/slow") + get("/fast") + get("/third"));
    await tick();
    expect(wire.text()).toBe(""); // /fast is not answered before /slow
    expect(wire.paused).toBe(true); // requests queue up: stop reading more
    release[0]!();
    await tick();
    expect(parseResponses(Buffer.concat(wire.out)).map((r) => r.body)).toEqual(["/slow", "/fast", "/third"]);
    expect(wire.paused).toBe(false);
  });

  it("hands a small body over whole, a large one as a stream that pauses the socket", async () => {
    const seen: (string | number)[] = [];
    const { wire, send } = setup(async (req) => {
      if (req.body instanceof Uint8Array) seen.push(Buffer.from(req.body).toString());
      else if (req.body) seen.push((await new Response(req.body).arrayBuffer()).byteLength);
      return textResponse("ok", {});
    });
    send(`POST /a HTTP/1.1\r\ncontent-length: 5\r\n\r\nhel`);
    await tick();
    expect(seen).toEqual([]); // waits for the whole small body
    send("lo");
    await tick();
    expect(seen).toEqual(["hello"]);
    const big = 200 * 1024;
    send(`POST /b HTTP/1.1\r\ncontent-length: ${big}\r\n\r\n`);
    for (let i = 0; i < 100; i++) send("x".repeat(2048));
    await tick();
    expect(seen).toEqual(["hello", big]);
    expect(parseResponses(Buffer.concat(wire.out)).map((r) => r.status)).toEqual([200, 200]);
  });

  it("drops a head that is still arriving after the head timeout, not an idle keep-alive connection", async () => {
    const { wire, conn, send, advance } = setup(async () => textResponse("ok", {}));
    send("GET / HTTP/1.1\r\nx-slow: ");
    advance(HEAD_TIMEOUT_MS - 1);
    conn.sweep(HEAD_TIMEOUT_MS - 1);
    expect(wire.terminated).toBe(false);
    send("a");
    advance(2);
    conn.sweep(HEAD_TIMEOUT_MS + 1);
    expect(wire.terminated).toBe(true);

    const idle = setup(async () => textResponse("ok", {}));
    idle.send(get("/"));
    await tick();
    idle.advance(IDLE_TIMEOUT_MS - 1);
    idle.conn.sweep(idle.now());
    expect(idle.wire.ended).toBe(false);
    idle.advance(2);
    idle.conn.sweep(idle.now());
    expect(idle.wire.ended).toBe(true);
  });

  it("answers what a half-closed client sent in full, then ends", async () => {
    const { wire, conn, send } = setup(async (req) => textResponse(req.target, {}));
    send(get("/one") + get("/two") + "GET /cut HTTP/1.1\r\n");
    conn.onEnd();
    await tick();
    expect(parseResponses(Buffer.concat(wire.out)).map((r) => r.body)).toEqual(["/one", "/two"]);
    expect(wire.ended).toBe(true);
  });

  it("answers a framing error after the requests before it, then closes", async () => {
    const { wire, send } = setup(async (req) => textResponse(req.target, {}));
    send(get("/ok") + "POST /bad HTTP/1.1\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n");
    await tick();
    const rs = parseResponses(Buffer.concat(wire.out));
    expect(rs.map((r) => [r.status, r.headers["meshlet-reason"] ?? null])).toEqual([
      [200, null],
      [400, "malformed_request"],
    ]);
    expect(wire.ended).toBe(true);
  });

  it("after an early answer reads and drops the rest of the body before it ends", async () => {
    const { wire, send } = setup(async () => textResponse("too big", { status: 413 }));
    send(`POST /up HTTP/1.1\r\ncontent-length: ${300 * 1024}\r\n\r\n`);
    await tick();
    expect(wire.text()).toContain("413");
    expect(wire.ended).toBe(false); // still reading what the client sends
    for (let i = 0; i < 150; i++) send("x".repeat(2048));
    await tick();
    expect(wire.ended).toBe(true);
  });

  it("keeps a quiet response stream for an hour without a byte, then drops it", async () => {
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
    const { wire, conn, send, advance, now } = setup(() => new Response(body, { headers: { "content-type": "text/event-stream" } }));
    send(get("/events"));
    await tick();
    advance(STREAM_IDLE_MS - 1000);
    push.enqueue(new TextEncoder().encode("data: 1\n\n"));
    await tick();
    advance(STREAM_IDLE_MS);
    expect(conn.sweep(now())).toBe(false);
    expect(wire.terminated).toBe(false);
    advance(1);
    expect(conn.sweep(now())).toBe(true);
    expect(wire.terminated).toBe(true);
  });

  it("handles nothing that arrives after a draining connection's FIN: it could not be answered", async () => {
    const seen: string[] = [];
    const { wire, conn, send } = setup((req: Incoming) => (seen.push(req.target), textResponse("ok", { status: 200 })));
    send(get("/before"));
    await tick();
    conn.drain();
    expect(wire.ended).toBe(true);
    send(get("/after"));
    await tick();
    expect(seen).toEqual(["/before"]);
  });
});
