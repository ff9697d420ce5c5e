// Seeded property-based fuzzing of a live sidecar over raw sockets: request lines, targets,
// headers, chunked framing and bodies, alone and pipelined. Every case must end (no hang), every
// answer must be the app's or a Dapr-shaped sidecar error, and afterwards the sidecar must be
// healthy with its memory bounded.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { killAll, rss, startSidecar, tempHome, type Sidecar } from "../helpers.ts";
import { exchange, type RawResponse } from "../raw-http.ts";

let s: Sidecar;

beforeAll(async () => {
  s = await startSidecar({ appId: "fz", home: tempHome(), echo: true, args: ["--max-body-size", "2Ki", "--read-buffer-size", "4Ki"] });
});
afterAll(killAll);

const SEED = 11_2026;

const methodArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS") },
  { weight: 1, arbitrary: fc.constantFrom("CONNECT", "TRACE", "FOO", "get", "PRI", "M-SEARCH", "") },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9_-]{1,8}$/),
  fc.constantFrom("..", ".", "%2e%2e", ".%2E", "%252e%252e", "..%2f", "%00", "%0d%0a", "%ff", "%", "%zz", "a%2fb", "~", "", "v1.0", "method", "invoke"),
  fc.string({ maxLength: 6 }),
);
const path = fc.array(segment, { maxLength: 6 }).map((segs) => segs.join("/"));
const targetArb = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom("fz", "nobody", "fz.default", "a.b.c", "%66z", "x%1by"), path).map(([id, p]) => `/v1.0/invoke/${id}/method/${p}`) },
  { weight: 2, arbitrary: path.map((p) => `/${p}`) },
  { weight: 1, arbitrary: fc.constantFrom("/v1.0/healthz", "/v1.0/metadata", "/v1.0/shutdown/../healthz", "*", "http://x/v1.0/invoke/fz/method/a", "/v1.0/metadata/k") },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

const headerArb = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), fc.stringMatching(/^[\x20-\x7e]{0,20}$/)).map(([k, v]) => `${k}: ${v}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "dapr-app-id: fz",
      "dapr-app-id: ../x",
      "authorization: Basic ZGFwci1hcHAtaWQ6Zno=",
      "expect: 100-continue",
      "connection: close",
      "connection: keep-alive, upgrade",
      "upgrade: websocket",
      "content-length: 3",
      "content-length: -1",
      "content-length: 99999999",
      "transfer-encoding: chunked",
      "transfer-encoding: gzip",
      "x-a : b",
      " folded",
      "x-big: " + "a".repeat(5000),
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

const bodyArb = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("3\r\nabc\r\n0\r\n\r\n", "5\r\nab\r\n0\r\n\r\n", "zz\r\n", "0\r\nx-t: 1\r\n\r\n", "1000\r\nabc", "x".repeat(3000)),
);

/** One request's bytes: sometimes framed right by construction, sometimes not at all. */
const requestArb = fc.record({
  method: methodArb,
  target: targetArb,
  version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 extra"),
  headers: fc.array(headerArb, { maxLength: 5 }),
  body: bodyArb,
  frame: fc.constantFrom("length", "chunked", "raw"),
  eol: fc.constantFrom("\r\n", "\r\n", "\r\n", "\n"),
}).map((r) => {
  const framing = r.frame === "length" ? [`content-length: ${Buffer.byteLength(r.body)}`] : r.frame === "chunked" ? ["transfer-encoding: chunked"] : [];
  const body = r.frame === "chunked" && r.body && !/\r\n/.test(r.body) ? `${Buffer.byteLength(r.body).toString(16)}\r\n${r.body}\r\n0\r\n\r\n` : r.body;
  return `${r.method} ${r.target} ${r.version}${r.eol}host: x${r.eol}${[...r.headers, ...framing].map((h) => h + r.eol).join("")}${r.eol}${body}`;
});

/** The app's own answer, an API success, or a sidecar error in Dapr's shape with a reason. */
function checkAnswer(r: RawResponse): void {
  if (r.headers["x-app"] === "fz") return; // the app's own answer, relayed
  if (r.status < 400) return; // 100 Continue, healthz, metadata
  const reason = r.headers["meshlet-reason"];
  expect(reason, `error without a reason: ${r.status} ${JSON.stringify(r.headers)} ${r.body.slice(0, 200)}`).toBeDefined();
  if (reason !== "api_token" && r.body) {
    const b = JSON.parse(r.body) as { errorCode?: unknown; message?: unknown };
    expect(typeof b.errorCode).toBe("string");
    expect(typeof b.message).toBe("string");
  }
}

describe("fuzzing a live sidecar", () => {
  it("ends every exchange, answers with the app's response or a Dapr-shaped error, and stays healthy", async () => {
    const before = rss(s.pid);
    let cases = 0;
    let answers = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 3 }), async (reqs, splitAt) => {
        cases++;
        const wire = Buffer.from(reqs.join(""), "latin1");
        const cut = Math.floor((wire.length * splitAt) / 4);
        const parts = cut > 0 && cut < wire.length ? [wire.subarray(0, cut), wire.subarray(cut)] : [wire];
        const methods = reqs.map((r) => r.slice(0, r.indexOf(" ")));
        const x = await exchange(s.httpPort, parts, { halfClose: true, timeoutMs: 8000, methods });
        // The sidecar ends every exchange once the client is done: no hang.
        expect(x.closed, `no close for ${JSON.stringify(wire.toString("latin1").slice(0, 300))}; got ${x.raw.slice(0, 300)}`).toBe(true);
        for (const r of x.responses) {
          checkAnswer(r);
          answers++;
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
    console.log(`fuzz: ${cases} cases, ${answers} answers`);
    expect(cases).toBe(1000);
    expect((await fetch(`${s.url}/v1.0/healthz`)).status).toBe(204);
    expect(s.child.exitCode).toBeNull();
    expect((rss(s.pid) - before) / 1024 / 1024).toBeLessThan(40);
  }, 120_000);
});
