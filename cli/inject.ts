// `meshlet inject [FILE|DIR|-]...`: reads Kubernetes YAML, adds the sidecar where Dapr's
// annotations ask for it (kube/inject.ts), and writes every document to stdout, or with
// --uninject takes meshlet out. Everything is computed before the first byte is written, so a
// mistake is one line on stderr and no half-written manifest.

import fs from "node:fs";
import YAML from "yaml";
import { parseYamlText, readResourcePaths, type YamlDoc } from "../config/yaml.ts";
import { AnnotationError } from "../kube/annotations.ts";
import { injectDocs, InjectError, uninjectDocs } from "../kube/inject.ts";
import type { Identity } from "../kube/sidecar.ts";
import { parseCommand } from "./command-spec.ts";
import { INJECT_SPEC } from "./specs/kube.ts";
import { UsageError, warn } from "./ui.ts";

async function readStdin(): Promise<string> {
  let text = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

export function identityOf(v: { "sentry-address"?: string; "sentry-token-secret"?: string; "cert-secret"?: string }): Identity {
  const sentry = v["sentry-address"];
  if (sentry && v["cert-secret"]) throw new UsageError("give --sentry-address or --cert-secret, not both");
  if (sentry) {
    if (!v["sentry-token-secret"]) throw new UsageError("--sentry-address needs --sentry-token-secret: the Secret holding the join token");
    return { sentryAddress: sentry, tokenSecret: v["sentry-token-secret"] };
  }
  if (v["cert-secret"]) return { certSecret: v["cert-secret"] };
  // Without one, every pod would make its own CA and its peers would refuse it.
  throw new UsageError("the sidecars need an identity source shared by the cluster: --sentry-address ADDR --sentry-token-secret NAME, or --cert-secret NAME");
}

export async function injectCommand(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand(INJECT_SPEC, args);
  const identity = v.uninject ? null : identityOf(v);
  const docs: YamlDoc[] = [];
  for (const p of positionals.length ? positionals : ["-"]) {
    if (p === "-") docs.push(...parseYamlText(await readStdin(), "<stdin>"));
    else if (!fs.existsSync(p)) throw new UsageError(`${p}: no such file or folder`);
    else docs.push(...readResourcePaths([p]));
  }
  let out: Array<Record<string, unknown>>;
  try {
    out = v.uninject ? uninjectDocs(docs) : injectDocs(docs, { image: v.image ?? INJECT_SPEC.flags.image.default, identity: identity!, secrets: v.secret ?? [], warn: (line) => warn(line) });
  } catch (e) {
    if (e instanceof InjectError || e instanceof AnnotationError) throw new UsageError(e.message);
    throw e;
  }
  process.stdout.write(out.map((d) => YAML.stringify(d, { lineWidth: 0 })).join("---\n"));
  return 0;
}
