// The sidecar-to-sidecar listener's handler: a call from a peer sidecar arrives here and goes
// to the local app. It checks the call is meant for this app-id; it never resolves or balances.

import type { Call, CallContext, ProxyRequest } from "../core/call.ts";
import type { Handler } from "../runtime/listen.ts";
import type { SidecarConfig } from "./config.ts";
import { type Logger, throttledInfo } from "../core/log.ts";
import { splitUrl, normalizeMethod } from "./route.ts";
import { asSidecarError, errorResponse, invokeError, SidecarError } from "../core/errors.ts";
import { PEER_TOKEN_HEADER, sameSecret } from "../transport/peer-secret.ts";
import { forwardRequestHeaders } from "./headers.ts";
import { ensureTraceparent } from "./trace.ts";
import { takeBody } from "./body-limit.ts";

const PEER_TOKEN_FILE_HINT = "$MESHLET_HOME/peer-secret, or MESHLET_PEER_SECRET_FILE";

export function inboundHandler(cfg: SidecarConfig, toApp: Call, log: Logger): Handler {
  const logFailure = throttledInfo(log);
  const secret = cfg.peerSecret;
  return async (req) => {
    // Only sidecars may call: with mTLS off, they prove it with the host's peer secret.
    if (secret !== undefined && !sameSecret(req.headers.get(PEER_TOKEN_HEADER), secret)) {
      return errorResponse(
        new SidecarError(
          "peer_unauthenticated",
          `the caller did not prove it is a sidecar of this host: it sent no valid peer secret (give every host the same ${PEER_TOKEN_FILE_HINT})`,
        ),
      );
    }
    const calleeId = req.headers.get("dapr-callee-app-id");
    const calleeNs = req.headers.get("dapr-callee-namespace") ?? cfg.namespace;
    if (calleeId !== cfg.appId || calleeNs !== cfg.namespace) {
      return errorResponse(
        invokeError("wrong_target", calleeId ?? "?", `this sidecar serves ${cfg.appId}.${cfg.namespace}, not ${calleeId}.${calleeNs}`),
      );
    }
    const { path: raw, query } = splitUrl(req.target);
    const path = normalizeMethod(raw);
    if (path === null) return errorResponse(invokeError("invalid_method", cfg.appId, `invalid method: ${raw}`));
    // Caller identity is informational until mTLS: then it comes from the verified certificate.
    const callerId = req.headers.get("dapr-caller-app-id");
    const callerNs = req.headers.get("dapr-caller-namespace");
    const headers = forwardRequestHeaders(req.headers);
    if (callerId) headers.set("dapr-caller-app-id", callerId);
    if (callerNs) headers.set("dapr-caller-namespace", callerNs);
    headers.set("dapr-callee-app-id", cfg.appId);
    ensureTraceparent(headers);
    const ctx: CallContext = { appId: cfg.appId, namespace: cfg.namespace, signal: req.signal };
    try {
      // The caller's sidecar enforced its --max-body-size; this one holds for this app too.
      const body = takeBody(req, cfg.maxBodySize, ctx);
      const preq: ProxyRequest = { method: req.method, path, query, headers, body };
      return await toApp(preq, ctx);
    } catch (e) {
      const err = asSidecarError(e);
      if (err.reason !== "client_closed") logFailure(err.reason, "delivery to app failed", { reason: err.reason, method: path, error: err.message });
      return errorResponse(err);
    }
  };
}
