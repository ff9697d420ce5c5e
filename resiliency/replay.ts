// The bounded replay buffer: a small body with a known length is held so a retry can send it
// again; a larger or unknown-length body streams through untouched and the request is marked
// not retryable. Nothing is ever buffered beyond the cap.

import type { ProxyRequest } from "../core/call.ts";

export const DEFAULT_REPLAY_CAP = 64 * 1024;

export type Replay =
  | { readonly replayable: true; readonly req: ProxyRequest }
  | { readonly replayable: false; readonly req: ProxyRequest; readonly why: "body_too_large" | "body_unknown_length" };

export async function prepareReplay(req: ProxyRequest, cap: number): Promise<Replay> {
  const body = req.body;
  if (body === null || body instanceof Uint8Array) return { replayable: true, req };
  const cl = req.headers.get("content-length");
  if (cl === null) return { replayable: false, req, why: "body_unknown_length" };
  const n = Number(cl);
  if (!(n <= cap)) return { replayable: false, req, why: "body_too_large" };
  const bytes = new Uint8Array(n);
  let off = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (off + value.byteLength > n) throw new Error("request body longer than its Content-Length");
    bytes.set(value, off);
    off += value.byteLength;
  }
  return { replayable: true, req: { ...req, body: off === n ? bytes : bytes.subarray(0, off) } };
}
