// Decides whether one failed attempt may be retried, safe by default: idempotent verbs per
// policy; POST and PATCH only when the request never reached a server, carries an
// Idempotency-Key, or the policy opts in; 4xx only when `matching` lists them.

import { SidecarError } from "../core/errors.ts";
import type { HeaderBag } from "../core/header-list.ts";
import { safeToRepeat } from "../core/idempotent.ts";

export { safeToRepeat };
import type { RetryPolicy } from "./policy/types.ts";

/** Without `matching`, meshlet retries server errors only (Dapr would retry every failure, 4xx too). */
export const DEFAULT_RETRY_STATUSES: readonly (readonly [number, number])[] = [[500, 599]];

/** Failures that end the call at once: retrying cannot help or is not allowed. */
const PERMANENT = new Set([
  "breaker_open",
  "breaker_half_open_full",
  "client_closed",
  "body_too_large",
  "deadline_exceeded",
  "invalid_method",
  "invalid_app_id",
  "app_id_not_found",
]);

export const isFailureStatus = (s: number) => s < 200 || s > 399;

function statusMatches(status: number, p: RetryPolicy): boolean {
  const ranges = p.httpStatusCodes ?? DEFAULT_RETRY_STATUSES;
  for (const [a, b] of ranges) if (status >= a && status <= b) return true;
  return false;
}


export function mayRepeat(method: string, headers: HeaderBag, p: RetryPolicy): boolean {
  return safeToRepeat(method, headers) || p.retryNonIdempotent;
}

/** A short reason to retry, or null when the outcome must be returned as it is. */
export function retryReason(res: Response | null, err: unknown, method: string, headers: HeaderBag, p: RetryPolicy): string | null {
  if (err !== null) {
    const e = err instanceof SidecarError ? err : null;
    if (e && PERMANENT.has(e.reason)) return null;
    // An unknown app-id is answered at once: retrying a typo only makes the caller wait.
    if (e?.neverSent) return e.reason;
    if (p.onlyNeverSent) return null;
    return mayRepeat(method, headers, p) ? (e?.reason ?? "error") : null;
  }
  if (!res || !isFailureStatus(res.status)) return null;
  if (p.onlyNeverSent || !statusMatches(res.status, p)) return null;
  return mayRepeat(method, headers, p) ? `status ${res.status}` : null;
}
