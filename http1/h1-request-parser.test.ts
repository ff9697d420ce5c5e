// The listener's request parser, by property: valid requests come out exactly as they went in
// however the bytes are split across reads, pipelined ones in order; arbitrary bytes never throw,
// never hold more than the head limit, and end in a request or a FramingError.

import { describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { FramingError, RequestParser, type RequestHead } from "./h1-request-parser.ts";

interface Parsed {
  head: RequestHead;
  body: Buffer;
  complete: boolean;
}

function parseAll(parts: Buffer[], maxHeaderBytes = 16 * 1024): { reqs: Parsed[]; error: FramingError | null } {
  const reqs: Parsed[] = [];
  let cur: Parsed | null = null;
  const chunks: Buffer[] = [];
  const p = new RequestParser(maxHeaderBytes, {
    onHead: (head) => {
      cur = { head, body: Buffer.alloc(0), complete: false };
      chunks.length = 0;
      reqs.push(cur);
    },
    onBody: (b) => chunks.push(Buffer.from(b)),
    onComplete: () => {
      cur!.body = Buffer.concat(chunks);
      cur!.complete = true;
    },
  });
  for (const part of parts) {
    const error = p.execute(part);
    if (error) return { reqs, error };
  }
  return { reqs, error: null };
}

/** Splits `buf` at the given cut points (fractions of its length). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * buf.length)))].filter((n) => n > 0 && n < buf.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const n of at) {
    out.push(buf.subarray(prev, n));
    prev = n;
  }
  out.push(buf.subarray(prev));
  return out;
}

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
const target = fc.stringMatching(/^\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,40}(\?[A-Za-z0-9=&%-]{0,20})?$/);
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/);
const header = fc.tuple(token, value).filter(([k]) => !["content-length", "transfer-encoding", "connection", "expect"].includes(k));

interface Spec {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer;
  chunked: boolean;
  chunkSizes: number[];
}

const request: fc.Arbitrary<Spec> = fc.record({
  method,
  target,
  headers: fc.array(header, { maxLength: 8 }),
  body: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  chunked: fc.boolean(),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
});

function encode(r: Spec): Buffer {
  let head = `${r.method} ${r.target} HTTP/1.1\r\n`;
  for (const [k, v] of r.headers) head += `${k}: ${v}\r\n`;
  if (!r.chunked) return Buffer.concat([Buffer.from(`${head}content-length: ${r.body.length}\r\n\r\n`, "latin1"), r.body]);
  const parts: Buffer[] = [Buffer.from(`${head}transfer-encoding: chunked\r\n\r\n`, "latin1")];
  let off = 0;
  let i = 0;
  while (off < r.body.length) {
    const n = Math.min(r.chunkSizes[i++ % r.chunkSizes.length]!, r.body.length - off);
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), r.body.subarray(off, off + n), Buffer.from("\r\n"));
    off += n;
  }
  parts.push(Buffer.from("0\r\nx-trailer: 1\r\n\r\n"));
  return Buffer.concat(parts);
}

const SEED = 20261130;

describe("RequestParser properties", () => {
  it("parses pipelined valid requests exactly, however the bytes are split", () => {
    let cases = 0;
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 4 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), (reqs, cuts) => {
        cases++;
        const wire = Buffer.concat(reqs.map(encode));
        const { reqs: got, error } = parseAll(split(wire, cuts));
        expect(error).toBeNull();
        expect(got).toHaveLength(reqs.length);
        got.forEach((g, i) => {
          const r = reqs[i]!;
          expect(g.complete).toBe(true);
          expect(g.head.method).toBe(r.method);
          expect(g.head.target).toBe(r.target);
          expect(g.head.chunked).toBe(r.chunked);
          expect(g.body.equals(r.body)).toBe(true);
          const names = [...g.head.headers].map(([k]) => k).filter((k) => k !== "content-length" && k !== "transfer-encoding");
          expect(names).toEqual(r.headers.map(([k]) => k));
        });
      }),
      { seed: SEED, numRuns: 400 },
    );
    expect(cases).toBe(400);
  });

  it("never throws on arbitrary bytes, ends in requests or one FramingError, and holds at most the head limit", () => {
    const limit = 2048;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
            fc.constantFrom("GET / HTTP/1.1\r\n", "\r\n", "content-length: 5\r\n", "transfer-encoding: chunked\r\n", "5\r\nhello\r\n", "0\r\n\r\n", "x: y\r\n", ": z\r\n", " fold\r\n").map((s) => Buffer.from(s)),
          ),
          { maxLength: 30 },
        ),
        (parts) => {
          const { error } = parseAll(parts, limit);
          if (error) expect(error).toBeInstanceOf(FramingError);
        },
      ),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it("ends a head split across reads only at CRLF CRLF it holds, whatever its buffer held before", () => {
    // The parser's buffer comes from Buffer.allocUnsafe: make its unused tail CRLFs, as recycled
    // memory can be, so a held "\r\n" followed by that tail would look like the end of the head.
    const spy = vi.spyOn(Buffer, "allocUnsafe").mockImplementation((n: number) => Buffer.alloc(n, "\r\n"));
    try {
      // Both parities: the tail's "\r\n" pairs start at even offsets.
      for (const target of ["/a", "/ab"]) {
        const wire = Buffer.from(`GET ${target} HTTP/1.1\r\nx-one: 1\r\nx-two: 2\r\n\r\n`);
        const { reqs, error } = parseAll([...wire].map((b) => Buffer.from([b])));
        expect(error).toBeNull();
        expect(reqs).toHaveLength(1);
        expect([...reqs[0]!.head.headers].map(([k]) => k)).toEqual(["x-one", "x-two"]);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it("refuses a head over the limit whether it arrives at once or byte by byte", () => {
    const big = Buffer.from(`GET / HTTP/1.1\r\nx: ${"a".repeat(3000)}\r\n\r\n`);
    expect(parseAll([big], 2048).error?.kind).toBe("too_large");
    const bytes = [...big].map((b) => Buffer.from([b]));
    expect(parseAll(bytes, 2048).error?.kind).toBe("too_large");
  });
});
