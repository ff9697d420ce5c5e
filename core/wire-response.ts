// A Response as the sidecar builds and relays it: the body's bytes kept in JS when they are in
// memory, and the headers kept in a HeaderList, so the listener writes both without a round trip
// through the runtime's Response and Headers. Code that asks for `headers` gets a Web Headers,
// made on first use; from then on that Headers is the one the listener writes.

import { HeaderList, type HeaderBag } from "./header-list.ts";

const nativeHeaders = Object.getOwnPropertyDescriptor(Response.prototype, "headers")!.get!;

export class WireResponse extends Response {
  /** The Web Headers once someone asked for `headers` (then `list` is no longer used). */
  private native: Headers | null = null;

  constructor(
    body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null,
    init: { status: number; statusText?: string },
    /** The headers, until `headers` is first read; null: the Response's own headers are used. */
    private list: HeaderList | null,
    /** The whole body when it is in memory (the same bytes as `body`). */
    readonly payload: Uint8Array<ArrayBuffer> | null = body instanceof Uint8Array ? body : null,
  ) {
    super(body, init);
  }

  /** The header list to write, or null when the Web Headers are the ones in force. */
  get headerList(): HeaderList | null {
    return this.list;
  }

  materialize(): Headers {
    if (this.native) return this.native;
    const h = this.list ? this.list.toHeaders() : (nativeHeaders.call(this) as Headers);
    this.list = null;
    return (this.native = h);
  }
}

Object.defineProperty(WireResponse.prototype, "headers", {
  get(this: WireResponse) {
    return this.materialize();
  },
});

/** The headers of any Response for reading and stamping, without materialising a WireResponse's. */
export function responseHeaders(res: Response): HeaderBag {
  return (res instanceof WireResponse && res.headerList) || res.headers;
}

/**
 * The 101 answer to a WebSocket handshake, `body` the upstream's half of the tunnel. A Fetch
 * Response refuses statuses under 200, so the status is set on the instance; layers read 101.
 */
export function switchingProtocols(body: ReadableStream<Uint8Array>, headers: HeaderList): WireResponse {
  const res = new WireResponse(body, { status: 200, statusText: "Switching Protocols" }, headers);
  Object.defineProperty(res, "status", { value: 101 });
  return res;
}

const utf8 = new TextEncoder();

/** A response the sidecar makes itself, with `text` as its UTF-8 body. */
export function textResponse(text: string, init: { status?: number; headers?: Record<string, string> }): WireResponse {
  const bytes = utf8.encode(text) as Uint8Array<ArrayBuffer>;
  return new WireResponse(bytes, { status: init.status ?? 200 }, HeaderList.of(init.headers ?? {}));
}
