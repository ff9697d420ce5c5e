// `meshlet sentry`: runs the CA service sidecars on other hosts get their certificates from, and
// `meshlet sentry token create` makes the join tokens they present.

import { lifetimeFlag, portFlag } from "./flags.ts";
import { parseFlagsOnly } from "./command-spec.ts";
import { SENTRY_SPEC, SENTRY_TOKEN_SPEC } from "./specs/security.ts";
import { info, ok, UsageError } from "./ui.ts";
import { createLogger, LEVELS, type Level } from "../core/log.ts";
import { meshletHome } from "../resolvers/local.ts";
import { certsDir } from "../security/ca.ts";
import { DEFAULT_SENTRY_PORT } from "../security/sentry/protocol.ts";


async function tokenCreate(args: string[]): Promise<number> {
  const v = parseFlagsOnly(SENTRY_TOKEN_SPEC, args);
  if (!v.namespace) throw new UsageError("--namespace is required (a token admits one namespace)");
  const ttlMs = await lifetimeFlag("ttl", v.ttl ?? "24h");
  const { createToken, tokenKey } = await import("../security/sentry/token.ts");
  const key = tokenKey(v["issuer-credentials"] ?? certsDir(meshletHome()), true);
  process.stdout.write(createToken(key, { ns: v.namespace, app: v["app-id"] ?? "*", exp: Math.floor((Date.now() + ttlMs) / 1000) }) + "\n");
  return 0;
}

export async function sentryCommand(args: string[]): Promise<number> {
  if (args[0] === "token") {
    if (args[1] !== "create") throw new UsageError(`meshlet sentry token: the subcommand is "create"`);
    return tokenCreate(args.slice(2));
  }
  const v = parseFlagsOnly(SENTRY_SPEC, args);
  const level = (v["log-level"] ?? "info") as Level;
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level: "${level}" is not one of ${LEVELS.join(", ")}`);
  const dir = v["issuer-credentials"] ?? certsDir(meshletHome());
  const { loadIssuer } = await import("../security/ca.ts");
  const issuer = await loadIssuer(dir);
  const { startSentry } = await import("../security/sentry/server.ts");
  const log = createLogger(level, { scope: "meshlet-sentry" });
  const sentry = await startSentry({
    dir,
    host: v["listen-address"] ?? "0.0.0.0",
    port: portFlag("port", v.port) ?? DEFAULT_SENTRY_PORT,
    trustDomain: v["trust-domain"] ?? issuer.trustDomain,
    controlPlaneTrustDomain: v["control-plane-trust-domain"] ?? "cluster.local",
    maxTtlMs: await lifetimeFlag("max-workload-cert-ttl", v["max-workload-cert-ttl"] ?? "24h"),
    log,
  });
  info(`meshlet sentry on ${v["listen-address"] ?? "0.0.0.0"}:${sentry.port}, issuer in ${dir}, trust domain ${v["trust-domain"] ?? issuer.trustDomain}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await sentry.close();
  ok("sentry stopped");
  return 0;
}
