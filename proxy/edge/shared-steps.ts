// Steps both listeners run, one definition each: header hygiene, trace context and the body
// limit. Their places in the EDGE and INBOUND lists are written in proxy/stack.ts.

import type { SidecarConfig } from "../config.ts";
import { takeBody } from "../body-limit.ts";
import { forwardRequestHeaders } from "../headers.ts";
import { ensureTraceparent } from "../trace.ts";
import type { EdgeStep } from "./context.ts";

/** What every listener's deps have. */
interface ListenerDeps {
  readonly cfg: SidecarConfig;
}

export const HEADER_HYGIENE: EdgeStep<ListenerDeps> = {
  name: "header-hygiene",
  why: "before anything is stamped: hop-by-hop headers, -bin keys and the headers only sidecars set (the peer secret among them) never pass",
  describe:
    "drops hop-by-hop, Connection-listed, -bin and dapr-* stamped headers and meshlet-peer-token (and Authorization when it carried the app-id)",
  layer: () => (next) => (req, ctx) => {
    const r = ctx.route;
    ctx.out = forwardRequestHeaders(req.headers, r !== null && r.kind === "invoke" && r.viaAuth);
    return next(req, ctx);
  },
};

export const TRACE_CONTEXT: EdgeStep<ListenerDeps> = {
  name: "trace-context",
  why: "once the outgoing headers exist: a valid traceparent (the caller's) is continued, a missing one created; the API port's respond puts it on the answer",
  describe: "W3C traceparent kept when valid, else a new sampled one (tracestate dropped with it)",
  layer: () => (next) => (req, ctx) => {
    ctx.traceparent = ensureTraceparent(ctx.out!);
    return next(req, ctx);
  },
};

export const BODY_LIMIT: EdgeStep<ListenerDeps> = {
  name: "body-limit",
  why: "last before the call leaves: a declared excess is refused before a byte is read, chunked bodies are counted as they stream; on the internal port this sidecar's limit holds for its app whatever the caller's was",
  describe: "--max-body-size: 413 body_too_large",
  layer: (d) => (next) => (req, ctx) => {
    ctx.body = takeBody(req, d.cfg.maxBodySize, ctx.call!);
    return next(req, ctx);
  },
};
