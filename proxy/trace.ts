// W3C trace context at the edge of the mesh: a valid incoming `traceparent` is kept as sent, a
// missing or invalid one is replaced by a fresh sampled one. Spans and exporters live elsewhere.

import type { HeaderBag } from "../core/header-list.ts";
import { isValidTraceparent, newTraceparent } from "../core/trace-context.ts";

/** Ensures `h` carries a valid traceparent and returns it; drops tracestate of a replaced one. */
export function ensureTraceparent(h: HeaderBag, random?: () => number): string {
  const cur = h.get("traceparent");
  if (isValidTraceparent(cur)) return cur.trim();
  const tp = newTraceparent(random);
  h.set("traceparent", tp);
  h.delete("tracestate");
  return tp;
}

/** W3C Baggage limits: at most 180 members and 8,192 bytes. */
const BAGGAGE_MAX_BYTES = 8192;
const BAGGAGE_MAX_MEMBERS = 180;
const BAGGAGE_KEY = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAGGAGE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/** Whether a `baggage` header is valid W3C Baggage (key=value members, ; properties, % escapes). */
export function isValidBaggage(v: string): boolean {
  if (v.length > BAGGAGE_MAX_BYTES) return false;
  const members = v.split(",");
  if (members.length > BAGGAGE_MAX_MEMBERS) return false;
  for (const m of members) {
    const [kv, ...props] = m.split(";");
    const eq = kv!.indexOf("=");
    if (eq < 0) return false;
    const key = kv!.slice(0, eq).trim();
    const value = kv!.slice(eq + 1).trim();
    if (!BAGGAGE_KEY.test(key) || !BAGGAGE_VALUE.test(value)) return false;
    if (/%(?![0-9A-Fa-f]{2})/.test(value)) return false;
    for (const p of props) {
      const i = p.indexOf("=");
      const pk = (i < 0 ? p : p.slice(0, i)).trim();
      if (!BAGGAGE_KEY.test(pk)) return false;
      if (i >= 0 && !BAGGAGE_VALUE.test(p.slice(i + 1).trim())) return false;
    }
  }
  return true;
}
