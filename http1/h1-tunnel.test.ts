// WebSocket tunnels on both HTTP/1.1 connections, on fake wires and a fake clock: which heads are
// handshakes, the 101 written and read, bytes both ways unparsed, half-close, and the idle timeout.

import { describe, expect, it } from "vitest";
import { RequestParser, type RequestHead } from "./h1-request-parser.ts";
import { ServerConn } from "./h1-server.ts";
import { STREAM_IDLE_MS } from "./server-contract.ts";
import { FakeClientWire, FakeServerWire } from "../test/fake-wires.ts";
import { ConnectionError, H1Conn } from "./h1-conn.ts";
import type { Incoming } from "../core/incoming.ts";
import { HeaderList } from "../core/header-list.ts";
import { switchingProtocols, textResponse } from "../core/wire-response.ts";

const HANDSHAKE = "connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
const latin1 = (s: string) => Buffer.from(s, "latin1");
const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString("latin1");
const tick = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

/** Everything a reader gets until `n` bytes came (or the stream ended). */
async function readBytes(r: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<string> {
  const got: Uint8Array[] = [];
  let size = 0;
  while (size < n) {
    const { done, value } = await r.read();
    if (done) break;
    got.push(value);
    size += value.byteLength;
  }
  return text(got);
}

function parse(...chunks: string[]) {
  const heads: RequestHead[] = [];
  const body: Uint8Array[] = [];
  let completed = 0;
  const p = new RequestParser(8192, { onHead: (h) => heads.push(h), onBody: (b) => body.push(Buffer.from(b)), onComplete: () => completed++ });
  const errors = chunks.map((c) => p.execute(latin1(c)));
  return { heads, body: text(body), completed, errors };
}

describe("request parser: which heads open a tunnel", () => {
  it("takes a WebSocket handshake and hands every later byte on unparsed, the first ones from the head's own chunk", () => {
    const r = parse(`GET /chat HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\nframe-1`, "GET /next HTTP/1.1\r\n\r\n");
    expect(r.heads).toHaveLength(1);
    expect(r.heads[0]!.upgrade).toBe("websocket");
    expect(r.heads[0]!.keepAlive).toBe(false);
    expect(r.body).toBe("frame-1GET /next HTTP/1.1\r\n\r\n");
    expect(r.completed).toBe(0);
    expect(r.errors).toEqual([null, null]);
  });

  it.each([
    ["another protocol (h2c)", "GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n"],
    ["no Connection: upgrade", "GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n\r\n"],
    ["a POST", `POST / HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}content-length: 0\r\n\r\n`],
    ["HTTP/1.0", `GET / HTTP/1.0\r\nhost: x\r\n${HANDSHAKE}\r\n`],
    ["a body", `GET / HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}content-length: 2\r\n\r\nab`],
  ])("treats %s as an ordinary request", (_what, req) => {
    const r = parse(req + "GET /2 HTTP/1.1\r\nhost: x\r\n\r\n");
    expect(r.heads.map((h) => h.upgrade)).toEqual([null, null]);
    expect(r.completed).toBe(2);
  });
});


/** A server connection whose handler answers a handshake with 101 and a tunnel it controls. */
function serverTunnel(opts: { answer?: (req: Incoming) => Response } = {}) {
  let t = 0;
  const wire = new FakeServerWire();
  let upstream!: ReadableStreamDefaultController<Uint8Array>;
  let got: Incoming | null = null;
  const handler = (req: Incoming) => {
    got = req;
    if (opts.answer) return opts.answer(req);
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (upstream = c) });
    return switchingProtocols(body, HeaderList.of({ upgrade: "websocket", "sec-websocket-accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" }));
  };
  const conn = new ServerConn(wire, { address: "127.0.0.1", port: 1 }, { handler, maxHeaderBytes: 4096, now: () => t, streamIdleMs: 10_000 });
  return {
    wire,
    conn,
    send: (s: string) => conn.onData(latin1(s)),
    upstream: () => upstream,
    incoming: () => got!,
    advance: (ms: number) => (t += ms),
    now: () => t,
  };
}

describe("server connection: a WebSocket tunnel", () => {
  it("hands the handshake on with the client's bytes as its body and writes the 101 and the upstream's bytes unframed", async () => {
    const s = serverTunnel();
    s.send(`GET /v1.0/invoke/chat/method/ws HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\nearly`);
    await tick();
    expect(s.incoming().upgrade).toBe("websocket");
    const head = text(s.wire.out);
    expect(head.startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true);
    expect(head).toContain("upgrade: websocket\r\n");
    expect(head).toContain("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
    expect(head).toContain("connection: upgrade\r\n\r\n");
    expect(head).not.toMatch(/content-length|transfer-encoding|connection: close/);
    const fromClient = (s.incoming().body as ReadableStream<Uint8Array>).getReader();
    s.send("GET / HTTP/1.1\r\n\r\n");
    expect(await readBytes(fromClient, 23)).toBe("earlyGET / HTTP/1.1\r\n\r\n");
    s.wire.out.length = 0;
    s.upstream().enqueue(latin1("0123456789"));
    await tick();
    expect(text(s.wire.out)).toBe("0123456789");
    // The upstream closes its half: the client gets a FIN, and nothing more is read.
    s.upstream().close();
    await tick();
    expect(s.wire.ended).toBe(true);
    expect(s.wire.terminated).toBe(false);
  });

  it("ends the client's stream cleanly on its FIN while the upstream's half goes on", async () => {
    const s = serverTunnel();
    s.send(`GET /ws HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\n`);
    await tick();
    const fromClient = (s.incoming().body as ReadableStream<Uint8Array>).getReader();
    s.send("bye");
    s.conn.onEnd();
    expect(await readBytes(fromClient, 100)).toBe("bye");
    expect((await fromClient.read()).done).toBe(true);
    s.upstream().enqueue(latin1("still here"));
    await tick();
    expect(text(s.wire.out)).toMatch(/still here$/);
    expect(s.wire.ended).toBe(false);
  });

  it("pauses the socket while the upstream does not take the client's bytes", async () => {
    const s = serverTunnel();
    s.send(`GET /ws HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\n`);
    await tick();
    s.send("x".repeat(70 * 1024));
    expect(s.wire.paused).toBe(true);
    const fromClient = (s.incoming().body as ReadableStream<Uint8Array>).getReader();
    await readBytes(fromClient, 70 * 1024);
    expect(s.wire.paused).toBe(false);
  });

  it("drops a tunnel with no byte either way for its idle timeout, counting both directions", async () => {
    const s = serverTunnel();
    s.send(`GET /ws HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\n`);
    await tick();
    s.advance(9_000);
    s.upstream().enqueue(latin1("ping"));
    await tick();
    s.advance(9_000);
    expect(s.conn.sweep(s.now())).toBe(false);
    s.send("pong");
    s.advance(9_999);
    expect(s.conn.sweep(s.now())).toBe(false);
    expect(s.wire.terminated).toBe(false);
    s.advance(2);
    expect(s.conn.sweep(s.now())).toBe(true);
    expect(s.wire.terminated).toBe(true);
  });

  it("keeps an hour as the default idle timeout, far beyond any keep-alive ping", () => {
    expect(STREAM_IDLE_MS).toBe(3_600_000);
  });

  it("answers a handshake the upstream refused as usual and closes the connection after it", async () => {
    const s = serverTunnel({ answer: () => textResponse("expected a WebSocket handshake", { status: 426 }) });
    s.send(`GET /ws HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\n`);
    await tick();
    const out = text(s.wire.out);
    expect(out).toMatch(/^HTTP\/1.1 426 /);
    expect(out).toContain("connection: close\r\n");
    expect(s.wire.ended).toBe(true);
  });

  it("never switches protocols for a request that asked for no upgrade", async () => {
    const s = serverTunnel();
    s.send("GET /plain HTTP/1.1\r\nhost: x\r\n\r\n");
    await tick();
    const out = text(s.wire.out);
    expect(out).toMatch(/^HTTP\/1.1 500 /);
    expect(out).toContain("meshlet-reason: internal");
  });
});


function clientTunnel() {
  const wire = new FakeClientWire();
  const released: H1Conn[] = [];
  const conn = new H1Conn(wire, (c) => released.push(c));
  let toUpstream!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (toUpstream = c) });
  const headers = HeaderList.of({ upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" });
  const res = conn.request({ method: "GET", path: "/ws", query: "", headers, body }, "h:1", new AbortController().signal);
  return { wire, conn, released, res, toUpstream: () => toUpstream, data: (s: string) => conn.onData(latin1(s)) };
}

const SWITCH = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

describe("client connection: a WebSocket tunnel", () => {
  it("sends the handshake with Connection: upgrade and holds the body until the 101", async () => {
    const c = clientTunnel();
    c.toUpstream().enqueue(latin1("too early"));
    await tick();
    const sent = text(c.wire.written);
    expect(sent).toBe(
      "GET /ws HTTP/1.1\r\nhost: h:1\r\nupgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
    );
    c.data(SWITCH);
    await tick();
    expect(text(c.wire.written).slice(sent.length)).toBe("too early");
  });

  it("hands the 101 on with its upgrade header and the bytes after it, unparsed, as the body", async () => {
    const c = clientTunnel();
    c.data(SWITCH + "first");
    const res = await c.res;
    expect(res.status).toBe(101);
    expect(res.headers.get("upgrade")).toBe("websocket");
    expect(res.headers.get("sec-websocket-accept")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    expect(res.headers.get("connection")).toBeNull();
    const r = res.body!.getReader();
    c.data("HTTP/1.1 200 OK\r\n\r\n");
    expect(await readBytes(r, 24)).toBe("firstHTTP/1.1 200 OK\r\n\r\n");
    // The upstream's FIN ends the body cleanly; the connection never goes back to the pool.
    c.conn.onClose(false);
    expect((await r.read()).done).toBe(true);
    expect(c.released).toHaveLength(0);
  });

  it("half-closes the upstream when the client's half ends, and breaks the body on a reset", async () => {
    const c = clientTunnel();
    c.data(SWITCH);
    const res = await c.res;
    c.toUpstream().close();
    await tick();
    expect(c.wire.ended).toBe(true);
    c.conn.onClose(true);
    await expect(res.body!.getReader().read()).rejects.toThrow(/reset the WebSocket connection/);
  });

  it("passes a refused handshake on as an ordinary answer and keeps the connection", async () => {
    const c = clientTunnel();
    c.data("HTTP/1.1 426 Upgrade Required\r\ncontent-length: 2\r\n\r\nno");
    const res = await c.res;
    expect(res.status).toBe(426);
    expect(await res.text()).toBe("no");
    await tick();
    expect(c.released).toHaveLength(1);
  });

  it("half-closes after the 101 of a handshake that has no body to send, every time", async () => {
    for (let i = 0; i < 2; i++) {
      const wire = new FakeClientWire();
      const conn = new H1Conn(wire, () => {});
      const headers = HeaderList.of({ upgrade: "websocket" });
      const res = conn.request({ method: "GET", path: "/ws", query: "", headers, body: null }, "h:1", new AbortController().signal);
      conn.onData(latin1(SWITCH));
      expect((await res).status).toBe(101);
      await tick();
      expect(wire.ended).toBe(true);
      expect(wire.terminated).toBe(false);
    }
  });

  it("fails a 101 to a request that asked for no upgrade", async () => {
    const wire = new FakeClientWire();
    const conn = new H1Conn(wire, () => {});
    const res = conn.request({ method: "GET", path: "/", query: "", headers: new HeaderList(), body: null }, "h:1", new AbortController().signal);
    conn.onData(latin1(SWITCH));
    await expect(res).rejects.toBeInstanceOf(ConnectionError);
    expect(wire.terminated).toBe(true);
  });
});
