// Takes a request body for forwarding and enforces --max-body-size without reading big bodies
// whole: a declared Content-Length is checked up front, a chunked body is counted as it streams.
// Small declared bodies (up to the replay cap) are read natively at once: cheaper than a stream
// on Bun, and replayable by the retry layer without a second copy.

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

/**
 * The body of an incoming request as the forwarding core wants it: null when there is none
 * (no Content-Length, no Transfer-Encoding), bytes when declared and at most `smallCap`, else a
 * stream (counted against `max` when chunked). Throws `body_too_large` for a declared excess.
 */
export async function takeBody(req: Request, max: number, smallCap: number, ctx: CallContext): Promise<ReadableStream<Uint8Array> | Uint8Array | null> {
  const cl = req.headers.get("content-length");
  const chunked = req.headers.get("transfer-encoding") !== null;
  if (cl === null && !chunked) return null;
  if (cl !== null && !chunked) {
    const n = Number(cl);
    if (n > max) throw tooLarge(max);
    if (n <= smallCap) return new Uint8Array(await req.arrayBuffer());
  }
  return limitBody(req.body, chunked ? null : cl, max, ctx);
}
