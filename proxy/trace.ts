// W3C trace context at the edge of the mesh: a valid incoming `traceparent` is kept as sent, a
// missing or invalid one is replaced by a fresh sampled one. Spans and exporters live elsewhere.

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function isValidTraceparent(v: string | null): v is string {
  if (!v) return false;
  const m = TRACEPARENT.exec(v.trim());
  if (!m) return false;
  if (m[1] === "ff") return false;
  if (/^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const scratch = new Uint8Array(24);

function hex(bytes: number, random: (() => number) | undefined, offset: number): string {
  let s = "";
  for (let i = 0; i < bytes; i++) s += HEX[random ? Math.floor(random() * 256) : scratch[offset + i]!];
  return s;
}

/** A sampled W3C traceparent with fresh ids; `random` (tests) replaces the crypto source. */
export function newTraceparent(random?: () => number): string {
  if (!random) crypto.getRandomValues(scratch);
  let trace = hex(16, random, 0);
  if (/^0+$/.test(trace)) trace = trace.slice(0, 31) + "1";
  let span = hex(8, random, 16);
  if (/^0+$/.test(span)) span = span.slice(0, 15) + "1";
  return `00-${trace}-${span}-01`;
}

/** Ensures `h` carries a valid traceparent and returns it; drops tracestate of a replaced one. */
export function ensureTraceparent(h: Headers, random?: () => number): string {
  const cur = h.get("traceparent");
  if (isValidTraceparent(cur)) return cur.trim();
  const tp = newTraceparent(random);
  h.set("traceparent", tp);
  h.delete("tracestate");
  return tp;
}
