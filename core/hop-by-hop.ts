// Hop-by-hop headers (RFC 9110 7.6.1): the fixed list and the names a `Connection` header adds,
// as both HTTP/1.1 directions and every dialer need them. Which headers the sidecar itself
// stamps or drops is request-path policy and lives in proxy/headers.ts.

export const HOP_BY_HOP = new Set([
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

/** Adds the header names a `Connection` value lists (lower-cased) to `into`. */
export function addConnectionTokens(value: string, into: Set<string>): Set<string> {
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
