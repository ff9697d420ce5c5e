// WebSockets through two sidecars (mTLS between them), with undici's WebSocket client and a Bun
// WebSocket app: the handshake takes the invocation path (caller identity, access control, Dapr's
// errors), then bytes flow both ways until either end closes, and a close crosses both sidecars.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import path from "node:path";
import { WebSocket } from "undici";
import { BUN, freePort, killAll, ROOT, scrapeMetrics, seriesValues, spawnProc, startSidecar, tempFile, tempHome, waitFor, type Sidecar } from "../helpers.ts";
import { exchange } from "../raw-http.ts";

const WS_APP = path.join(ROOT, "test", "apps", "ws-app.ts");
const HANDSHAKE = "connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

// The callee denies its /chat to `blocked`: access control must hold for a handshake too.
const config = () =>
  tempFile(
    "chat-acl.yaml",
    `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: chat
spec:
  accessControl:
    defaultAction: allow
    trustDomain: public
    policies:
    - appId: blocked
      defaultAction: allow
      trustDomain: public
      namespace: default
      operations:
      - name: /chat
        httpVerb: ['GET']
        action: deny
`,
  );

let chat: Sidecar;
let caller: Sidecar;
let blocked: Sidecar;
let home: string;

beforeAll(async () => {
  home = tempHome();
  chat = await startSidecar({ appId: "chat", home, echo: true, command: [BUN, WS_APP], args: ["-c", config()] });
  caller = await startSidecar({ appId: "caller", home });
  blocked = await startSidecar({ appId: "blocked", home });
});
afterAll(killAll);

/** A connected client that queues what it receives, for `next()` to take in order. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const got: (string | ArrayBuffer)[] = [];
  const waiters: ((m: string | ArrayBuffer) => void)[] = [];
  ws.onmessage = (e) => {
    const w = waiters.shift();
    if (w) w(e.data);
    else got.push(e.data);
  };
  const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
  });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
  });
  const next = (ms = 10_000) =>
    got.length > 0
      ? Promise.resolve(got.shift()!)
      : new Promise<string | ArrayBuffer>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error("no message")), ms);
          waiters.push((m) => {
            clearTimeout(t);
            resolve(m);
          });
        });
  return { ws, next, closed };
}

const chatUrl = (s: Sidecar) => `${s.url.replace("http", "ws")}/v1.0/invoke/chat/method/chat`;
const closedCount = async () => ((await (await fetch(`${caller.url}/v1.0/invoke/chat/method/count`)).json()) as { closed: number }).closed;

describe("WebSocket through two sidecars", () => {
  it("carries text and 1 MB binary messages both ways, the app seeing the verified caller", async () => {
    const c = await connect(chatUrl(caller));
    // The app greets with the dapr-caller-app-id the callee's sidecar stamped from the certificate.
    expect(await c.next()).toBe("hello caller");
    c.ws.send("hi");
    expect(await c.next()).toBe("echo hi");
    c.ws.send("big:1048576");
    const big = (await c.next()) as ArrayBuffer;
    expect(big.byteLength).toBe(1048576);
    expect(new Uint8Array(big).every((b) => b === 120)).toBe(true);
    const up = new Uint8Array(1048576).map((_, i) => i % 251);
    c.ws.send(up);
    expect(Buffer.from((await c.next()) as ArrayBuffer).equals(Buffer.from(up))).toBe(true);
    c.ws.close(1000, "done");
    expect(await c.closed).toMatchObject({ code: 1000, wasClean: true });
  });

  it("brings the app's close code and reason to the client", async () => {
    const c = await connect(chatUrl(caller));
    await c.next();
    c.ws.send("close:4001");
    expect(await c.closed).toEqual({ code: 4001, reason: "asked to", wasClean: true });
  });

  it("closes the app's socket when the client vanishes without a close frame", async () => {
    const before = await closedCount();
    // No close frame: a raw client completes the handshake and then drops its TCP connection,
    // as when its process dies.
    const raw = net.connect(caller.httpPort, "127.0.0.1");
    raw.write(`GET /v1.0/invoke/chat/method/chat HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\n`);
    await new Promise<void>((resolve) => raw.once("data", () => resolve()));
    raw.destroy();
    await waitFor("the app to see its socket close", async () => (await closedCount()) > before, 10_000);
  });

  it("answers a handshake for an unknown app-id with Dapr's error and closes the connection", async () => {
    const r = await exchange(caller.httpPort, [`GET /v1.0/invoke/nobody/method/chat HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\n`], { timeoutMs: 5_000 });
    expect(r.responses[0]!.status).toBe(500);
    expect(r.responses[0]!.headers["meshlet-reason"]).toBe("app_id_not_found");
    expect(JSON.parse(r.responses[0]!.body).errorCode).toBe("ERR_DIRECT_INVOKE");
    expect(r.closed).toBe(true);
  });

  it("refuses the handshake of a caller access control denies, before the app sees it", async () => {
    const r = await exchange(blocked.httpPort, [`GET /v1.0/invoke/chat/method/chat HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\n`], { timeoutMs: 5_000 });
    expect(r.responses[0]!.status).toBe(403);
    expect(r.responses[0]!.headers["meshlet-reason"]).toBe("access_denied");
    expect(r.closed).toBe(true);
  });

  it("passes on an app's refusal to upgrade as its answer", async () => {
    const r = await exchange(caller.httpPort, [`GET /v1.0/invoke/chat/method/elsewhere HTTP/1.1\r\nhost: x\r\n${HANDSHAKE}\r\n`], { timeoutMs: 5_000 });
    expect(r.responses[0]!.status).toBe(404);
    expect(r.closed).toBe(true);
  });

  it("moves a handshake whose app is gone to another instance: every socket opens", async () => {
    // Two instances of `room`, each app started apart from its sidecar; one app is killed.
    const apps = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const app = spawnProc(BUN, [WS_APP], { APP_PORT: String(port) });
      await waitFor(`ws app on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/count`).catch(() => null))?.status === 200);
      await startSidecar({ appId: "room", home, echo: port, command: [] });
      apps.push(app);
    }
    apps[0]!.child.kill("SIGKILL");
    await apps[0]!.exited;
    const roomUrl = `${caller.url.replace("http", "ws")}/v1.0/invoke/room/method/chat`;
    for (let i = 0; i < 8; i++) {
      const c = await connect(roomUrl);
      expect(await c.next()).toBe("hello caller");
      c.ws.close();
      await c.closed;
    }
    const moved = seriesValues(await scrapeMetrics(caller), 'meshlet_failovers_total{target="room"');
    expect(moved.reduce((n, v) => n + v, 0)).toBeGreaterThan(0);
  });

  it("counts open tunnels on the caller's API listener and the callee's internal one", async () => {
    const gauge = async (s: Sidecar, listener: string) => seriesValues(await scrapeMetrics(s), `meshlet_websockets_open{listener="${listener}"}`)[0];
    const open = async (api: number, internal: number) =>
      waitFor(`${api} tunnel(s) open`, async () => (await gauge(caller, "api")) === api && (await gauge(chat, "internal")) === internal, 10_000);
    await open(0, 0);
    const c = await connect(chatUrl(caller));
    await c.next();
    await open(1, 1);
    c.ws.close();
    await c.closed;
    await open(0, 0);
  });

  it("counts the handshake in Dapr's metrics with status 101", async () => {
    const [handshakes] = seriesValues(await scrapeMetrics(caller), "dapr_http_server_response_count{", 'status="101"');
    expect(handshakes).toBeDefined();
    expect(handshakes).toBeGreaterThanOrEqual(3);
  });
});
