// Enforces --max-body-size on request bodies without reading them whole: a declared
// Content-Length is checked up front, a chunked body is counted as it streams through.

import type { CallContext } from "./types.ts";
import { SidecarError } from "./errors.ts";

export function tooLarge(max: number): SidecarError {
  return new SidecarError("body_too_large", `request body exceeds the maximum of ${max} bytes (--max-body-size)`);
}

/**
 * Returns the body to forward: unchanged when its declared length fits, a counting stream when
 * the length is unknown, or throws when the declared length is already too big. When a chunked
 * body crosses the limit the stream errors and `ctx.bodyTooLarge` is set, so the failed upstream
 * call can be reported as 413 instead of a transport error.
 */
export function limitBody(
  body: ReadableStream<Uint8Array> | null,
  contentLength: string | null,
  max: number,
  ctx: CallContext,
): ReadableStream<Uint8Array> | null {
  if (body === null) return null;
  if (contentLength !== null) {
    const n = Number(contentLength);
    if (Number.isFinite(n) && n > max) throw tooLarge(max);
    if (Number.isFinite(n)) return body;
  }
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) {
          ctx.bodyTooLarge = true;
          controller.error(tooLarge(max));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
