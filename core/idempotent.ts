// Which requests may be sent twice without changing the outcome (RFC 9110 9.2.2): idempotent
// methods, and requests a client marked with an Idempotency-Key. Dialers and retries both ask.

import type { HeaderBag } from "./header-list.ts";

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/** An idempotent verb, or a request the client marked with an Idempotency-Key. */
export function safeToRepeat(method: string, headers: HeaderBag): boolean {
  return IDEMPOTENT.has(method) || headers.has("idempotency-key");
}
