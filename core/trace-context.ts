// W3C trace context, shared by the edge (keep a caller's traceparent or make one) and the span
// records (continue it): one parser with the spec's validity rules, and ids from one random pool.

import { randomBytes } from "node:crypto";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * A valid traceparent's fields (match[1] version, [2] trace id, [3] parent id, [4] flags), or null.
 * Version ff and all-zero ids are invalid; other versions are read by version 00's layout, as
 * W3C asks of a participant that meets a newer version.
 */
export function parseTraceparent(v: string): RegExpExecArray | null {
  const m = TRACEPARENT.exec(v);
  return m && m[1] !== "ff" && m[2] !== ZERO_TRACE && m[3] !== ZERO_SPAN ? m : null;
}

/** Whether a header value is a valid traceparent (surrounding spaces allowed). */
export function isValidTraceparent(v: string | null): v is string {
  return !!v && parseTraceparent(v.trim()) !== null;
}

/** A span as a call carries it to the layers under it: its context, and whether it records. */
export interface CarriedSpan {
  readonly traceparent: string;
  readonly sampled: boolean;
}

// Ids: slices of one random hex string, refilled 8 KiB of hex at a time (one native call per
// ~170 traceparents instead of one per id).
let pool = "";
let at = 0;

/** `n` random lower-case hex digits, never all zero (an all-zero id is invalid in W3C trace context). */
export function randomHex(n: number): string {
  if (at + n > pool.length) {
    pool = randomBytes(4096).toString("hex");
    at = 0;
  }
  const s = pool.slice(at, (at += n));
  return s.charCodeAt(0) === 48 && /^0+$/.test(s) ? randomHex(n) : s;
}

/** A sampled traceparent with fresh ids; `random` (tests) replaces the random source. */
export function newTraceparent(random?: () => number): string {
  if (!random) return `00-${randomHex(32)}-${randomHex(16)}-01`;
  const hex = (n: number) => {
    let s = "";
    for (let i = 0; i < n / 2; i++) s += Math.floor(random() * 256).toString(16).padStart(2, "0");
    return /^0+$/.test(s) ? s.slice(0, -1) + "1" : s;
  };
  return `00-${hex(32)}-${hex(16)}-01`;
}
