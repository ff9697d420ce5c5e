import { describe, expect, it } from "vitest";
import { ConnectionError, H1Conn } from "./h1-conn.ts";
import { FakeClientWire } from "../test/fake-wires.ts";
import type { ProxyRequest } from "../core/call.ts";
import { HeaderList } from "../core/header-list.ts";

function setup() {
  const wire = new FakeClientWire();
  const released: H1Conn[] = [];
  const conn = new H1Conn(wire, (c) => released.push(c));
  return { wire, conn, released };
}

const req = (o: Partial<ProxyRequest> = {}): ProxyRequest => ({ method: "GET", path: "/x", query: "", headers: new HeaderList(), body: null, ...o });
const tick = () => new Promise((r) => setTimeout(r, 0));
const data = (conn: H1Conn, s: string) => conn.onData(Buffer.from(s, "latin1"));

describe("H1Conn", () => {
  it("writes one request head with the body coalesced and a content-length", async () => {
    const { wire, conn } = setup();
    const h = HeaderList.of({ "x-a": "1", connection: "close", host: "evil", "content-length": "99" });
    void conn.request(req({ method: "POST", path: "/m/p", query: "?q=1", headers: h, body: new TextEncoder().encode("hello") }), "127.0.0.1:9", new AbortController().signal);
    await tick();
    expect(wire.written).toHaveLength(1);
    expect(wire.text()).toBe("POST /m/p?q=1 HTTP/1.1\r\nhost: 127.0.0.1:9\r\nx-a: 1\r\ncontent-length: 5\r\n\r\nhello");
  });

  it("hands a small complete response on as bytes and returns the connection", async () => {
    const { conn, released } = setup();
    const p = conn.request(req(), "h:1", new AbortController().signal);
    data(conn, "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nKeep-Alive: timeout=5\r\nX-Drop: 1\r\nConnection: x-drop\r\nContent-Length: 3\r\n\r\nabc");
    await tick();
    const res = await p;
    expect(res.status).toBe(201);
    expect(res.statusText).toBe("Created");
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("content-length")).toBe("3");
    expect(res.headers.has("keep-alive")).toBe(false);
    expect(res.headers.has("x-drop")).toBe(false);
    expect(await res.text()).toBe("abc");
    expect(released).toEqual([conn]);
  });

  it("streams a chunked body that arrives after the headers, then returns the connection", async () => {
    const { conn, released } = setup();
    const p = conn.request(req(), "h:1", new AbortController().signal);
    data(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    const res = await p;
    expect(res.headers.has("transfer-encoding")).toBe(false);
    const text = res.text();
    data(conn, "2\r\nde\r\n0\r\n\r\n");
    expect(await text).toBe("abcde");
    await tick();
    expect(released).toEqual([conn]);
  });

  it("skips 1xx interim responses", async () => {
    const { conn } = setup();
    const p = conn.request(req(), "h:1", new AbortController().signal);
    data(conn, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    const res = await p;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
  });

  it("knows a request that asked for a delivery receipt never reached the app when the connection breaks before the 102", async () => {
    const { conn } = setup();
    const post = (): ProxyRequest => req({ method: "POST", headers: HeaderList.of({ "meshlet-receipt": "1" }), body: new TextEncoder().encode("x") });
    const failure = async (p: Promise<Response>) => (await p.then(() => null, (e: unknown) => e)) as ConnectionError;
    // A fresh connection: the server has not shown it sends receipts, so a break proves nothing.
    const first = conn.request(post(), "h:1", new AbortController().signal);
    await tick();
    conn.onClose();
    expect((await failure(first)).undelivered).toBe(false);

    const c2 = setup().conn;
    const ok = c2.request(post(), "h:1", new AbortController().signal);
    data(c2, "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    expect((await ok).status).toBe(200);
    await tick();
    // The same server now breaks before its receipt: the app never got this request.
    const lost = c2.request(post(), "h:1", new AbortController().signal);
    await tick();
    c2.onClose();
    const e = await failure(lost);
    expect([e.code, e.nothingReceived, e.undelivered]).toEqual(["ECONNRESET", true, true]);

    // After the receipt the app may have it: a break then is not "undelivered".
    const c3 = setup().conn;
    const a = c3.request(post(), "h:1", new AbortController().signal);
    data(c3, "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    await a;
    await tick();
    const b = c3.request(post(), "h:1", new AbortController().signal);
    data(c3, "HTTP/1.1 102 Processing\r\n\r\n");
    c3.onClose();
    expect((await failure(b)).undelivered).toBe(false);
    // And a request that did not ask (a GET) is never called undelivered.
    const c4 = setup().conn;
    const g1 = c4.request(post(), "h:1", new AbortController().signal);
    data(c4, "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    await g1;
    await tick();
    const g2 = c4.request(req(), "h:1", new AbortController().signal);
    c4.onClose();
    expect((await failure(g2)).undelivered).toBe(false);
  });

  it("reads no body for HEAD and 204 even with a content-length", async () => {
    const { conn, released } = setup();
    const p = conn.request(req({ method: "HEAD" }), "h:1", new AbortController().signal);
    data(conn, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    const res = await p;
    expect(res.headers.get("content-length")).toBe("10");
    expect(res.body).toBeNull();
    await tick();
    expect(released).toHaveLength(1);
  });

  it("drops the connection after `connection: close` and after a body ended by close", async () => {
    const a = setup();
    const p = a.conn.request(req(), "h:1", new AbortController().signal);
    data(a.conn, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx");
    expect(await (await p).text()).toBe("x");
    expect(a.released).toHaveLength(0);
    expect(a.wire.terminated).toBe(true);

    const b = setup();
    const q = b.conn.request(req(), "h:1", new AbortController().signal);
    data(b.conn, "HTTP/1.0 200 OK\r\n\r\npartial");
    b.conn.onClose();
    expect(await (await q).text()).toBe("partial");
    expect(b.released).toHaveLength(0);
  });

  it("rejects when the connection closes before any byte, marking nothing received", async () => {
    const { conn } = setup();
    const p = conn.request(req(), "h:1", new AbortController().signal);
    conn.onClose();
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectionError);
    expect((e as ConnectionError).nothingReceived).toBe(true);
    expect((e as Error).message).toBe("upstream closed the connection (FIN) before the answer was complete");
    // A reset says so: the peer's process died with bytes it never read.
    const again = setup();
    const q = again.conn.request(req(), "h:1", new AbortController().signal);
    again.conn.onClose(true);
    await expect(q).rejects.toThrow("upstream reset the connection (ECONNRESET) before the answer was complete");
  });

  it("counts a reset with the whole request unread as undelivered: one write of at most 4 KiB, no answer byte", async () => {
    const post = (body: Uint8Array) => req({ method: "POST", body });
    const outcome = async (body: Uint8Array, reset: boolean, budget = Infinity) => {
      const { conn, wire } = setup();
      wire.budget = budget;
      const p = conn.request(post(body), "h:1", new AbortController().signal);
      if (budget !== Infinity) {
        // Let the rest go out after a drain, in a second write.
        wire.budget = Infinity;
        conn.onDrain();
      }
      await tick();
      conn.onClose(reset);
      return (await p.catch((e: unknown) => e)) as ConnectionError;
    };
    const small = new TextEncoder().encode('{"id":7}');
    // Reset, one small write: the peer process never read it.
    expect((await outcome(small, true)).undelivered).toBe(true);
    // A FIN: the peer's runtime may have read it (Node and Bun read eagerly), so it counts as delivered.
    expect((await outcome(small, false)).undelivered).toBe(false);
    // Two writes: the peer may have read the first part.
    expect((await outcome(small, true, 20)).undelivered).toBe(false);
    // Bigger than one first read of any server: part of it may have been read.
    expect((await outcome(new Uint8Array(8192), true)).undelivered).toBe(false);
    // An answer byte came back: the app had it.
    const { conn } = setup();
    const p = conn.request(post(small), "h:1", new AbortController().signal);
    await tick();
    data(conn, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
    const res = await p;
    const body = res.text();
    conn.onClose(true);
    await expect(body).rejects.toThrow(/reset/);
  });

  it("errors a body cut mid-way (never ends cleanly)", async () => {
    const { conn } = setup();
    const p = conn.request(req(), "h:1", new AbortController().signal);
    data(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
    const res = await p;
    const text = res.text();
    conn.onClose();
    await expect(text).rejects.toThrow(/closed the connection \(FIN\) before the answer was complete/);
  });

  it("aborts: rejects with the signal's reason and drops the connection", async () => {
    const { conn, wire } = setup();
    const ac = new AbortController();
    const p = conn.request(req(), "h:1", ac.signal);
    ac.abort(new DOMException("per-try timeout", "TimeoutError"));
    await expect(p).rejects.toMatchObject({ name: "TimeoutError" });
    expect(wire.terminated).toBe(true);
  });

  it("pauses the socket while the reader is behind, resumes when it reads", async () => {
    const { conn, wire } = setup();
    const p = conn.request(req(), "h:1", new AbortController().signal);
    data(conn, "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n");
    const res = await p;
    conn.onData(Buffer.alloc(70_000, 1));
    expect(wire.paused).toBe(true);
    const reader = res.body!.getReader();
    await reader.read();
    await tick();
    expect(wire.paused).toBe(false);
    conn.onData(Buffer.alloc(130_000, 2));
    let n = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
    }
    expect(n).toBe(200_000 - 70_000);
  });

  it("streams a request body without a declared length as chunks, waiting for drain", async () => {
    const { conn, wire } = setup();
    wire.budget = 4;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("hello"));
        c.enqueue(new TextEncoder().encode("world!"));
        c.close();
      },
    });
    void conn.request(req({ method: "POST", body }), "h:1", new AbortController().signal);
    for (let i = 0; i < 40; i++) {
      await tick();
      conn.onDrain();
    }
    expect(wire.text()).toBe("POST /x HTTP/1.1\r\nhost: h:1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n");
  });

  it("keeps an early complete answer (413) and stops sending the rest of the body", async () => {
    const { conn, wire, released } = setup();
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await tick();
        pulls++;
        c.enqueue(new Uint8Array(10));
      },
    });
    const p = conn.request(req({ method: "PUT", body, headers: HeaderList.of({ "content-length": "1000000" }) }), "h:1", new AbortController().signal);
    await tick();
    data(conn, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 2\r\n\r\nno");
    const res = await p;
    expect(res.status).toBe(413);
    expect(await res.text()).toBe("no");
    expect(wire.terminated).toBe(true);
    expect(released).toHaveLength(0);
    const before = pulls;
    await tick();
    await tick();
    expect(pulls - before).toBeLessThanOrEqual(1);
  });

  it("rejects a malformed response as an invalid upstream answer", async () => {
    const { conn } = setup();
    const p = conn.request(req(), "h:1", new AbortController().signal);
    data(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    await expect(p).rejects.toThrow(/invalid HTTP response/);
  });
});
