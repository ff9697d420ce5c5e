// `meshlet acl explain`: what a callee's Configuration decides for one call, and which rule
// decided, computed by the same function the internal port runs.

import { helpText, parseFlagsOnly } from "./command-spec.ts";
import { ACL_EXPLAIN_SPEC, ACL_SPEC } from "./specs/security.ts";
import { UsageError } from "./ui.ts";


export async function aclCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub) {
    process.stdout.write(helpText(ACL_SPEC));
    return 1;
  }
  if (sub !== "explain") throw new UsageError(`unknown acl command "${sub}" (commands: explain)`);
  const v = parseFlagsOnly(ACL_EXPLAIN_SPEC, rest);
  for (const k of ["from", "to", "verb", "method"] as const) if (!v[k]) throw new UsageError(`--${k} is required`);
  const { loadConfiguration } = await import("../config/configuration.ts");
  const { decide } = await import("../security/acl/policy.ts");
  const acl = v.config ? loadConfiguration(v.config).accessControl : null;
  const caller = v["no-mtls"] ? null : { appId: v.from!, namespace: v["from-namespace"] ?? "default", trustDomain: v["from-trust-domain"] ?? "public" };
  const d = decide(acl, caller, v.verb!.toUpperCase(), "/" + v.method!.replace(/^\/+/, ""));
  process.stdout.write(`${d.allowed ? "allow" : "deny"}: ${v.verb!.toUpperCase()} ${v.method} from ${v.from} to ${v.to}\n  decided by ${d.rule}\n`);
  return 0;
}
