// `meshlet health`: one probe of a sidecar's /v1.0/healthz for places without curl (a distroless
// image's HEALTHCHECK, scripts): exit 0 on 204, else 1 with the sidecar's reason on one line.

import { parseFlagsOnly } from "./command-spec.ts";
import { durationFlag, portFlag } from "./flags.ts";
import { HEALTH_SPEC } from "./specs/tools.ts";
import { fail } from "./ui.ts";

export async function healthCommand(args: string[]): Promise<number> {
  const v = parseFlagsOnly(HEALTH_SPEC, args);
  const port = portFlag("dapr-http-port", v["dapr-http-port"] ?? process.env.DAPR_HTTP_PORT ?? "3500") ?? 3500;
  const timeoutMs = durationFlag("timeout", v.timeout ?? "2s");
  const url = `http://127.0.0.1:${port}/v1.0/healthz${v.outbound ? "/outbound" : ""}`;
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (r.status === 204) return 0;
    const body = await r.text();
    let why = body.trim();
    try {
      why = (JSON.parse(body) as { message?: string }).message ?? why;
    } catch {
      // not Dapr's JSON: the text as it is
    }
    fail(`${url}: ${r.status}${why ? `: ${why}` : ""}`);
  } catch (e) {
    const err = e as Error & { code?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code;
    const why = err.name === "TimeoutError" ? `nothing within ${timeoutMs} ms` : code === "ECONNREFUSED" || /ECONNREFUSED/.test(err.message) ? "connection refused: is a sidecar listening there?" : err.message;
    fail(`${url}: no answer (${why})`);
  }
  return 1;
}
