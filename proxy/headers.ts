// Which request headers cross the sidecar and which the sidecar stamps: Dapr's caller/callee and
// forwarding headers on top of the hop-by-hop rules (core/hop-by-hop.ts). No routing or tracing.

import { type HeaderBag, HeaderList } from "../core/header-list.ts";
import { addConnectionTokens, HOP_BY_HOP } from "../core/hop-by-hop.ts";

/** Headers a client may not set for the next hop: the sidecars stamp these themselves. */
const STAMPED = new Set([
  "dapr-app-id",
  "dapr-api-token",
  "dapr-caller-app-id",
  "dapr-caller-namespace",
  "dapr-callee-app-id",
  "destination-app-id",
  "meshlet-peer-token",
  "meshlet-receipt",
]);

/**
 * Copies request headers for the next hop into a new HeaderList (one pass): drops hop-by-hop headers (and those named in `Connection`), `-bin` keys and the
 * headers the sidecar stamps. `content-length` is kept when the body is not chunked, so the app
 * sees the same framing the client chose.
 */
export function forwardRequestHeaders(src: HeaderList, dropAuthorization = false): HeaderList {
  const out = new HeaderList();
  let listed: Set<string> | null = null;
  let length: string | null = null;
  let chunked = false;
  for (let i = 0; i < src.size; i++) {
    const k = src.nameAt(i);
    const v = src.valueAt(i);
    if (HOP_BY_HOP.has(k)) {
      if (k === "connection") listed = addConnectionTokens(v, listed ?? new Set());
      else if (k === "content-length") length = v;
      else if (k === "transfer-encoding") chunked = true;
      continue;
    }
    if (STAMPED.has(k) || k.endsWith("-bin")) continue;
    if (dropAuthorization && k === "authorization") continue;
    out.append(k, v);
  }
  if (listed) for (const k of listed) out.delete(k);
  if (length !== null && !chunked) out.set("content-length", length);
  return out;
}

/** Appends X-Forwarded-For / X-Forwarded-Host / Forwarded as daprd does on the caller's side. */
export function stampForwarded(h: HeaderBag, clientIp: string | null, hostname: string): void {
  if (clientIp) {
    const xff = h.get("x-forwarded-for");
    h.set("x-forwarded-for", xff ? `${xff}, ${clientIp}` : clientIp);
    const forIp = clientIp.includes(":") ? `"[${clientIp}]"` : clientIp;
    const fwd = h.get("forwarded");
    const entry = `for=${forIp};host=${hostname}`;
    h.set("forwarded", fwd ? `${fwd}, ${entry}` : entry);
  }
  const xfh = h.get("x-forwarded-host");
  h.set("x-forwarded-host", xfh ? `${xfh}, ${hostname}` : hostname);
}
