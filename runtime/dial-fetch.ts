// Dialer on the runtime's fetch (Bun): keep-alive pooling per host:port is fetch's own; bodies
// stream both ways, no redirects are followed and compressed bodies are relayed as sent.

import type { Dialer } from "./dial.ts";
import { stripHopByHop } from "../core/hop-by-hop.ts";
import { toAbortSignal } from "../core/abort.ts";
import { asConnectionError } from "../core/connection-error.ts";
import { refuseUpgrade } from "./dial.ts";

export function fetchDialer(): Dialer {
  return {
    async dial(ep, req, ctx) {
      refuseUpgrade(req, "MESHLET_DIALER=fetch");
      const init: RequestInit & { decompress?: boolean; duplex?: "half" } = {
        method: req.method,
        headers: req.headers.toHeaders(),
        body: req.body as BodyInit | null,
        signal: toAbortSignal(ctx.signal),
        redirect: "manual",
        decompress: false,
        keepalive: true,
      };
      if (req.body && !(req.body instanceof Uint8Array)) init.duplex = "half";
      let res: Response;
      try {
        res = await fetch(`http://${ep.key}${req.path}${req.query}`, init);
      } catch (e) {
        throw asConnectionError(e);
      }
      // Hand Bun's own Response on (headers edited in place): touching `res.body` would turn the
      // native body into a JS stream and cost ~15% CPU per request.
      stripHopByHop(res.headers);
      return res;
    },
    async close() {},
  };
}
