// `meshlet injector`: the mutation of `meshlet inject` as a mutating admission webhook. POST an
// AdmissionReview (v1) to any path; GET /healthz answers 200. One log line per decision.

import fs from "node:fs";
import https from "node:https";
import { ReviewError, review } from "../kube/admission.ts";
import { createLogger } from "../core/log.ts";
import { parseFlagsOnly } from "./command-spec.ts";
import { portFlag } from "./flags.ts";
import { identityOf } from "./inject.ts";
import { INJECT_SPEC, INJECTOR_SPEC } from "./specs/kube.ts";
import { info, UsageError } from "./ui.ts";

/** Kubernetes sends AdmissionReviews of a few hundred KiB at most. */
const MAX_BODY = 4 * 1024 * 1024;

export async function injectorCommand(args: string[]): Promise<number> {
  const v = parseFlagsOnly(INJECTOR_SPEC, args);
  if (!v["tls-cert"] || !v["tls-key"]) throw new UsageError("--tls-cert and --tls-key are required: the API server only calls webhooks over HTTPS");
  const identity = identityOf(v);
  const read = (f: string) => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new UsageError(`${f}: ${(e as Error).message}`);
    }
  };
  const port = portFlag("port", v.port ?? "8443") ?? 8443;
  const log = createLogger("info", { scope: "meshlet-injector" });
  const options = { image: v.image ?? INJECT_SPEC.flags.image.default, identity, secrets: v.secret ?? [], warn: (line: string) => log.warn(line) };
  const server = https.createServer({ cert: read(v["tls-cert"]), key: read(v["tls-key"]) }, (req, res) => {
    if (req.method === "GET" && req.url === "/healthz") return void res.end("ok\n");
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end("POST an AdmissionReview\n");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const answer = review(body, options);
        const r = answer.response as { uid: string; allowed: boolean; patch?: string; status?: { message: string } };
        log.info("admission", { uid: r.uid, allowed: r.allowed, injected: r.patch !== undefined, reason: r.status?.message });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      } catch (e) {
        const message = e instanceof SyntaxError ? `the body is not JSON: ${e.message}` : (e as Error).message;
        if (!(e instanceof ReviewError) && !(e instanceof SyntaxError)) log.error("admission failed", { error: message });
        res.writeHead(400, { "content-type": "text/plain" }).end(`${message}\n`);
      }
    });
  });
  // Certificates renewed in place (cert-manager) are picked up for new connections.
  const timer = setInterval(() => {
    try {
      server.setSecureContext({ cert: fs.readFileSync(v["tls-cert"]!), key: fs.readFileSync(v["tls-key"]!) });
    } catch {
      // mid-rotation: the next tick reads both again
    }
  }, 60_000);
  timer.unref();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new UsageError(`cannot listen on ${v["listen-address"] ?? "0.0.0.0"}:${port}: ${e.message}`)));
    server.listen(port, v["listen-address"] ?? "0.0.0.0", () => resolve());
  });
  info(`meshlet injector listening on https://${v["listen-address"] ?? "0.0.0.0"}:${port}`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  return 0;
}
