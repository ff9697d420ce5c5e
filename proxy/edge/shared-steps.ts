// Steps both listeners run, one definition each: header hygiene, trace context and the body
// limit. Their places in the EDGE and INBOUND lists are written in proxy/stack.ts.

import type { SidecarConfig } from "../config.ts";
import { takeBody } from "../body-limit.ts";
import { forwardRequestHeaders } from "../headers.ts";
import { ensureTraceparent, isValidBaggage } from "../trace.ts";
import { parseTraceparent } from "../../core/trace-context.ts";
import type { HeaderList } from "../../core/header-list.ts";
import type { Tracing } from "../../observability/tracing.ts";
import { plainErrorResponse, REASONS } from "../../core/errors.ts";
import { spanAnswered, spanFailed } from "../trace-spans.ts";
import type { EdgeStep } from "./context.ts";

/** What every listener's deps have. */
interface ListenerDeps {
  readonly cfg: SidecarConfig;
  /** Spans and export; NO_TRACING when spec.tracing names no exporter. */
  readonly tracing: Tracing;
}

export const HEADER_HYGIENE: EdgeStep<ListenerDeps> = {
  name: "header-hygiene",
  why: "before anything is stamped: hop-by-hop headers, -bin keys and the headers only sidecars set (the peer secret among them) never pass",
  describe:
    "drops hop-by-hop, Connection-listed, -bin and dapr-* stamped headers and meshlet-peer-token (and Authorization when it carried the app-id); keeps Upgrade: websocket on a WebSocket handshake, which the dialer sends on and tunnels after a 101",
  layer: () => (next) => (req, ctx) => {
    const r = ctx.route;
    const out = (ctx.out = forwardRequestHeaders(req.headers, r !== null && r.kind === "invoke" && r.viaAuth));
    if (req.upgrade) out.set("upgrade", req.upgrade);
    return next(req, ctx);
  },
};

/** Dapr's answer to an invalid `baggage` header: 400 in plain text. */
function badBaggage(h: HeaderList): Response | null {
  const b = h.get("baggage");
  if (b === null || isValidBaggage(b)) return null;
  return plainErrorResponse("invalid_baggage", "invalid baggage header");
}

export const TRACE_CONTEXT: EdgeStep<ListenerDeps> = {
  name: "trace-context",
  why: "once the outgoing headers exist: a valid traceparent (the caller's) is continued, never replaced, a missing one created; the API port's respond puts it on the answer",
  describe:
    "an invalid baggage header is 400 invalid_baggage (plain text, as daprd); W3C traceparent kept when valid, else a new one (tracestate dropped with it); with spec.tracing, this sidecar's server span (CallLocal/<app-id>/<method>) under it, its context sent on",
  layer: (d) => {
    const t = d.tracing;
    if (!t.on) {
      return (next) => (req, ctx) => {
        const bad = badBaggage(ctx.out!);
        if (bad) return Promise.resolve(bad);
        ctx.traceparent = ensureTraceparent(ctx.out!);
        return next(req, ctx);
      };
    }
    return (next) => (req, ctx) => {
      const out = ctx.out!;
      const bad = badBaggage(out);
      if (bad) return Promise.resolve(bad);
      const incoming = out.get("traceparent");
      // Parsed once: the span starts from the fields (and the attempts under it from the span).
      const parent = incoming === null ? null : parseTraceparent(incoming.trim());
      const call = ctx.call!;
      const span = t.start(`CallLocal/${call.appId}${ctx.path}`, "server", parent, parent ? out.get("tracestate") : null);
      const tp = span.traceparent;
      out.set("traceparent", tp);
      if (!parent) out.delete("tracestate");
      ctx.traceparent = tp;
      call.traceparent = tp;
      call.span = span;
      if (span.sampled) {
        const r = ctx.route;
        const invoke = r !== null && r.kind === "invoke";
        span.setAll({
          "dapr.api": invoke ? `${req.method} /v1.0/invoke/${call.appId}/method${ctx.path}` : `${req.method} ${ctx.path}`,
          "dapr.protocol": "http",
          "rpc.service": "ServiceInvocation",
          "net.peer.name": invoke ? call.appId : (ctx.caller?.appId ?? ""),
          "http.request.method": req.method,
          "url.full": req.target,
        });
        if (ctx.caller) span.set("dapr.caller_app_id", ctx.caller.appId);
      }
      // then() rather than an async function: one frame less per call (see metrics-layers.ts).
      return next(req, ctx).then(
        (res) => {
          if (span.sampled) spanAnswered(span, res, "dapr.status_code");
          span.end();
          return res;
        },
        (e: unknown) => {
          if (span.sampled) span.set("dapr.status_code", REASONS[spanFailed(span, e).reason].status);
          span.end();
          throw e;
        },
      );
    };
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
