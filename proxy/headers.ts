// Which headers cross the sidecar and which the sidecar stamps: the hop-by-hop filter for both
// directions and Dapr's caller/callee/forwarding headers. It does not decide routing or tracing.

import { type HeaderBag, HeaderList } from "./header-list.ts";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "te",
  "trailer",
  "proxy-authorization",
  "proxy-authenticate",
  "host",
  "content-length",
]);

/** Headers a client may not set for the next hop: the sidecars stamp these themselves. */
const STAMPED = new Set([
  "dapr-app-id",
  "dapr-api-token",
  "dapr-caller-app-id",
  "dapr-caller-namespace",
  "dapr-callee-app-id",
  "destination-app-id",
  "meshlet-peer-token",
]);

/** Adds the header names a `Connection` value lists (lower-cased) to `into`. */
function addConnectionTokens(value: string, into: Set<string>): Set<string> {
  for (const part of value.split(",")) {
    const n = part.trim().toLowerCase();
    if (n) into.add(n);
  }
  return into;
}

function connectionListed(h: Headers): Set<string> | null {
  const c = h.get("connection");
  return c ? addConnectionTokens(c, new Set()) : null;
}

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

/** Removes hop-by-hop headers in place (for runtimes whose upstream Response is mutable). */
export function stripHopByHop(h: Headers): void {
  const listed = connectionListed(h);
  for (const k of HOP_BY_HOP) if (k !== "content-length" && k !== "host") h.delete(k);
  if (listed) for (const k of listed) h.delete(k);
}

/**
 * For a raw header list (`[name, value, ...]` as parsed off the wire): a predicate telling which
 * names not to pass on, i.e. hop-by-hop ones and those the `Connection` header lists. Keeps
 * `content-length`.
 */
export function hopByHopFilter(raw: readonly string[]): (name: string) => boolean {
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === "connection") listed = addConnectionTokens(raw[i + 1]!, listed ?? new Set());
  }
  return (name) => {
    const k = name.toLowerCase();
    return (HOP_BY_HOP.has(k) && k !== "content-length" && k !== "host") || (listed !== null && listed.has(k));
  };
}

/** Copies response headers back toward the client, minus hop-by-hop ones. */
export function forwardResponseHeaders(src: Headers): Headers {
  const out = new Headers();
  const listed = connectionListed(src);
  for (const [k, v] of src) {
    if (k === "content-length" || k === "host") {
      out.append(k, v);
      continue;
    }
    if (HOP_BY_HOP.has(k) || listed?.has(k)) continue;
    out.append(k, v);
  }
  // Headers iteration joins repeated set-cookie; restore them one per line.
  const cookies = src.getSetCookie();
  if (cookies.length > 1) {
    out.delete("set-cookie");
    for (const c of cookies) out.append("set-cookie", c);
  }
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
