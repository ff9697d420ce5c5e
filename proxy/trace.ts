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

function hex(bytes: number, random: () => number): string {
  let s = "";
  for (let i = 0; i < bytes; i++) s += Math.floor(random() * 256).toString(16).padStart(2, "0");
  return s;
}

export function newTraceparent(random: () => number = Math.random): string {
  let trace = hex(16, random);
  if (/^0+$/.test(trace)) trace = trace.slice(0, 31) + "1";
  let span = hex(8, random);
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
