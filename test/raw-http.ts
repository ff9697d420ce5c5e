// Raw HTTP/1.1 over a TCP socket for tests that send what client libraries refuse or normalise
// (dot segments, pipelining, bad framing), and a parser for the answers that came back.

import net from "node:net";
import tls from "node:tls";
import { HTTPParser } from "http-parser-js";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Exchange {
  /** Everything the server sent, parsed into responses (in order). */
  responses: RawResponse[];
  /** True when the server closed the connection. */
  closed: boolean;
  raw: string;
  /** The socket's error (a TLS alert, a reset), when one ended the exchange. */
  error?: string;
}

/**
 * Writes `parts` to 127.0.0.1:`port` (each after `gapMs`), then collects what comes back until
 * the server closes, `expect` responses arrived, or `timeoutMs` passed. `halfClose` sends FIN
 * after the last part.
 */
export function exchange(
  port: number,
  parts: (string | Buffer)[],
  o: { expect?: number; timeoutMs?: number; gapMs?: number; halfClose?: boolean; methods?: string[]; tls?: tls.ConnectionOptions } = {},
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    // With `tls`, the parts go out once the handshake is done (the server's certificate is not checked).
    const s: net.Socket = o.tls ? tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...o.tls }) : net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let closed = false;
    let error: string | undefined;
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ responses: parseResponses(raw, o.methods), closed, raw: raw.toString("latin1"), error });
    };
    const timer = setTimeout(finish, o.timeoutMs ?? 3000);
    s.on("data", (d) => {
      chunks.push(d);
      if (o.expect !== undefined && parseResponses(Buffer.concat(chunks), o.methods).length >= o.expect) finish();
    });
    s.on("close", () => {
      closed = true;
      finish();
    });
    s.on("error", (e) => {
      if ((e as NodeJS.ErrnoException).code === "ECONNRESET") return;
      if (o.tls) {
        error = (e as NodeJS.ErrnoException).code ?? e.message;
        return;
      }
      clearTimeout(timer);
      reject(e);
    });
    s.on(o.tls ? "secureConnect" : "connect", async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0 && o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
        s.write(p);
      }
      if (o.halfClose) s.end();
    });
  });
}

/**
 * Parses back-to-back HTTP/1.1 responses; a cut-off last one is left out. `methods` are the
 * requests' methods in order, so answers to HEAD are read without a body.
 */
export function parseResponses(buf: Buffer, methods: string[] = []): RawResponse[] {
  const out: RawResponse[] = [];
  const parser = new HTTPParser(HTTPParser.RESPONSE);
  let cur: RawResponse | null = null;
  let body: Buffer[] = [];
  parser[HTTPParser.kOnHeadersComplete] = (info) => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < info.headers.length; i += 2) headers[info.headers[i]!.toLowerCase()] = info.headers[i + 1]!;
    cur = { status: info.statusCode, headers, body: "" };
    body = [];
    // 100 Continue has no body; the parser goes on to the final answer.
    if (info.statusCode < 200) return 0;
    return methods[out.length] === "HEAD" ? 1 : 0;
  };
  parser[HTTPParser.kOnBody] = (b: Buffer, start: number, len: number) => {
    body.push(Buffer.from(b.subarray(start, start + len)));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (cur && cur.status >= 200) out.push({ ...cur, body: Buffer.concat(body).toString("utf8") });
    cur = null;
  };
  parser.execute(buf);
  return out;
}
