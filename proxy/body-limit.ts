// Takes a request body for forwarding and enforces --max-body-size without reading big bodies
// whole: a declared Content-Length is checked up front, a chunked body is counted as it streams.
// Small declared bodies arrive from the listener already read (replayable without a copy).

import type { CallContext } from "../core/call.ts";
import type { Incoming } from "../core/incoming.ts";
import { SidecarError } from "../core/errors.ts";

export function tooLarge(max: number): SidecarError {
  return new SidecarError("body_too_large", `request body exceeds the maximum of ${max} bytes (--max-body-size)`);
}

/**
 * Counts a body of unknown length as it streams: past `max` the stream errors and
 * `ctx.bodyTooLarge` is set, so the failed upstream call is reported as 413 instead of a
 * transport error.
 */
export function limitBody(body: ReadableStream<Uint8Array>, max: number, ctx: CallContext): ReadableStream<Uint8Array> {
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
 * The body of an incoming request as the forwarding core wants it: as the listener gave it
 * (null, bytes, or a stream of declared length), a counted stream when chunked. Throws
 * `body_too_large` for a declared excess before anything is read.
 */
export function takeBody(req: Incoming, max: number, ctx: CallContext): ReadableStream<Uint8Array> | Uint8Array | null {
  const body = req.body;
  if (body === null) return null;
  if (req.contentLength !== null && req.contentLength > max) throw tooLarge(max);
  if (body instanceof Uint8Array) return body;
  return req.chunked ? limitBody(body, max, ctx) : body;
}
