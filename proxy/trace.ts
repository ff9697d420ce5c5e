// W3C trace context at the edge of the mesh: a valid incoming `traceparent` is kept as sent, a
// missing or invalid one is replaced by a fresh sampled one. Spans and exporters live elsewhere.

import type { HeaderBag } from "../core/header-list.ts";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function isValidTraceparent(v: string | null): v is string {
  if (!v) return false;
  const m = TRACEPARENT.exec(v.trim());
  if (!m) return false;
  if (m[1] === "ff") return false;
  if (/^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return false;
  return true;
}

const scratch = Buffer.alloc(24);
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** A sampled W3C traceparent with fresh ids; `random` (tests) replaces the crypto source. */
export function newTraceparent(random?: () => number): string {
  if (random) for (let i = 0; i < 24; i++) scratch[i] = Math.floor(random() * 256);
  else crypto.getRandomValues(scratch);
  // One native hex encoding (24 bytes -> 48 chars) instead of 24 string concatenations.
  const ids = scratch.toString("hex");
  let trace = ids.slice(0, 32);
  if (trace === ZERO_TRACE) trace = trace.slice(0, 31) + "1";
  let span = ids.slice(32);
  if (span === ZERO_SPAN) span = span.slice(0, 15) + "1";
  return `00-${trace}-${span}-01`;
}

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
