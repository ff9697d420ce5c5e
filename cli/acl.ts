// `meshlet acl explain`: what a callee's Configuration decides for one call, and which rule
// decided, computed by the same function the internal port runs.

import { parseFlags } from "./flags.ts";
import { UsageError } from "./ui.ts";

export const ACL_USAGE = `usage: meshlet acl explain --from APP --to APP --verb V --method M [-c config] [flags]
  --from APP            the calling app-id
  --to APP              the called app-id (whose Configuration -c is)
  --verb V              HTTP verb (GET, POST, ...)
  --method M            the method path (orders/7)
  -c, --config FILE     the callee's Configuration (spec.accessControl)
  --from-namespace NS   the caller's namespace (default default)
  --from-trust-domain T the caller's trust domain (default public)
  --no-mtls             the caller is not verified: only the global defaultAction applies`;

export async function aclCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "explain") {
    process.stdout.write(ACL_USAGE + "\n");
    return sub === "--help" || sub === "-h" ? 0 : 1;
  }
  const v = parseFlags(rest, {
    from: { type: "string" },
    to: { type: "string" },
    verb: { type: "string" },
    method: { type: "string" },
    config: { type: "string", short: "c" },
    "from-namespace": { type: "string" },
    "from-trust-domain": { type: "string" },
    "no-mtls": { type: "boolean" },
  } as const);
  for (const k of ["from", "to", "verb", "method"] as const) if (!v[k]) throw new UsageError(`--${k} is required`);
  const { loadConfiguration } = await import("../config/configuration.ts");
  const { decide } = await import("../security/acl/policy.ts");
  const acl = v.config ? loadConfiguration(v.config).accessControl : null;
  const caller = v["no-mtls"] ? null : { appId: v.from!, namespace: v["from-namespace"] ?? "default", trustDomain: v["from-trust-domain"] ?? "public" };
  const d = decide(acl, caller, v.verb!.toUpperCase(), "/" + v.method!.replace(/^\/+/, ""));
  process.stdout.write(`${d.allowed ? "allow" : "deny"}: ${v.verb!.toUpperCase()} ${v.method} from ${v.from} to ${v.to}\n  decided by ${d.rule}\n`);
  return 0;
}
