// The dialers that cannot tunnel refuse a WebSocket handshake with a typed error, before anything
// is sent: sent as a plain GET it would reach the app without its Upgrade header.

import { describe, expect, it } from "vitest";
import net from "node:net";
import { fetchDialer } from "./dial-fetch.ts";
import { undiciDialer } from "./dial-undici.ts";
import { endpoint } from "../core/call.ts";
import { HeaderList } from "../core/header-list.ts";
import { SidecarError } from "../core/errors.ts";
import { NEVER } from "../core/abort.ts";

describe("dialers without tunnels", () => {
  it.each([
    ["fetch", fetchDialer],
    ["undici", undiciDialer],
  ])("%s refuses a WebSocket handshake as upgrade_unsupported and sends nothing", async (_name, make) => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const dialer = make();
    try {
      const headers = HeaderList.of({ upgrade: "websocket", "sec-websocket-version": "13" });
      const e = await dialer
        .dial(endpoint("127.0.0.1", port), { method: "GET", path: "/ws", query: "", headers, body: null }, { appId: "a", namespace: "default", signal: NEVER, connectMs: 0 })
        .then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(SidecarError);
      expect((e as SidecarError).reason).toBe("upgrade_unsupported");
      expect(connections).toBe(0);
    } finally {
      await dialer.close();
      server.close();
    }
  });
});
