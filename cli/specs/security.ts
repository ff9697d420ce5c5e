// The definitions of meshlet's security commands (certs, sentry, acl) and their subcommands:
// flags, defaults and Dapr names, read by parsing and by --help.

import { HELP_FLAG, type CommandSpec } from "../command-spec.ts";

const DIR = { type: "string", arg: "DIR", help: "the CA directory", default: "$MESHLET_HOME/certs" } as const;

export const CERTS_INIT_SPEC = {
  name: "certs init",
  summary: "create a root and an issuer (never overwrites)",
  usage: "certs init [--dir DIR] [--trust-domain T] [--ttl 1y]",
  flags: {
    dir: DIR,
    "trust-domain": { type: "string", arg: "T", help: "the trust domain of the SPIFFE ids it signs", default: "public" },
    ttl: { type: "string", arg: "LIFETIME", help: "the issuer's lifetime (1y, 90d, 720h)", default: "1y" },
    ...HELP_FLAG,
  },
  examples: ["meshlet certs init --trust-domain example.org"],
} as const satisfies CommandSpec;

export const CERTS_SHOW_SPEC = {
  name: "certs show",
  summary: "trust anchors, issuer and expiry (warns under 30 days)",
  usage: "certs show [--dir DIR]",
  flags: { dir: DIR, ...HELP_FLAG },
  examples: ["meshlet certs show"],
} as const satisfies CommandSpec;

export const CERTS_EXPORT_SPEC = {
  name: "certs export",
  summary: "the trust bundle (PEM), or with --with-issuer a directory for another host's --dir or sentry",
  usage: "certs export [--dir DIR] [--out FILE] [--with-issuer]",
  flags: {
    dir: DIR,
    out: { type: "string", arg: "FILE", help: "where to write", default: "stdout (a directory with --with-issuer)" },
    "with-issuer": { type: "boolean", help: "include the issuer and its key (written 0600)" },
    ...HELP_FLAG,
  },
  examples: ["meshlet certs export --out bundle.pem", "meshlet certs export --with-issuer --out ./issuer-for-host2"],
} as const satisfies CommandSpec;

export const CERTS_IMPORT_SPEC = {
  name: "certs import",
  summary: "add a bundle's roots (roots already there are kept); a directory with issuer.crt/key installs the issuer",
  usage: "certs import [--dir DIR] FILE|DIR",
  args: "FILE|DIR: a PEM bundle, or a directory written by certs export --with-issuer",
  flags: { dir: DIR, ...HELP_FLAG },
  examples: ["meshlet certs import bundle.pem"],
} as const satisfies CommandSpec;

export const CERTS_RENEW_SPEC = {
  name: "certs renew-issuer",
  summary: "a new issuer under the same root (needs root.key); running sidecars pick it up live",
  usage: "certs renew-issuer [--dir DIR] [--ttl 1y]",
  flags: { dir: DIR, ttl: { type: "string", arg: "LIFETIME", help: "the new issuer's lifetime", default: "1y" }, ...HELP_FLAG },
  examples: ["meshlet certs renew-issuer --ttl 90d"],
} as const satisfies CommandSpec;

export const CERTS_SPEC = {
  name: "certs",
  summary: "the local CA and its trust bundle",
  usage: "certs <init|show|export|import|renew-issuer> [flags]",
  flags: { ...HELP_FLAG },
  examples: ["meshlet certs show", "meshlet certs export --out bundle.pem"],
  subcommands: [CERTS_INIT_SPEC, CERTS_SHOW_SPEC, CERTS_EXPORT_SPEC, CERTS_IMPORT_SPEC, CERTS_RENEW_SPEC],
} as const satisfies CommandSpec;

export const SENTRY_TOKEN_SPEC = {
  name: "sentry token create",
  summary: "a join token for sidecars of one namespace (read from DAPR_SENTRY_TOKEN_FILE or MESHLET_SENTRY_TOKEN)",
  usage: "sentry token create --namespace NS [--app-id PATTERN] [--ttl LIFETIME] [--issuer-credentials DIR]",
  flags: {
    namespace: { type: "string", arg: "NS", help: "the namespace the token admits (required)" },
    "app-id": { type: "string", arg: "PATTERN", help: "app-ids it admits (* globs)", default: "*" },
    ttl: { type: "string", arg: "LIFETIME", help: "how long the token is valid", default: "24h" },
    "issuer-credentials": { type: "string", arg: "DIR", help: "the CA whose key signs the token", default: "$MESHLET_HOME/certs", dapr: "sentry --issuer-credentials" },
    ...HELP_FLAG,
  },
  examples: ["meshlet sentry token create --namespace default --app-id 'orders-*' --ttl 1h > token"],
} as const satisfies CommandSpec;

export const SENTRY_SPEC = {
  name: "sentry",
  summary: "a CA service that sidecars on several hosts get their certificates from (Dapr's sentry role)",
  usage: "sentry [flags] | sentry token create [flags]",
  flags: {
    "issuer-credentials": { type: "string", arg: "DIR", help: "ca.crt, issuer.crt, issuer.key", default: "$MESHLET_HOME/certs", dapr: "sentry --issuer-credentials" },
    port: { type: "string", arg: "PORT", help: "listen port", default: "50001", dapr: "sentry --port" },
    "listen-address": { type: "string", arg: "ADDR", help: "listen address", default: "0.0.0.0", dapr: "sentry --listen-address" },
    "trust-domain": { type: "string", arg: "T", help: "the trust domain it signs for", default: "the CA's, else public", dapr: "sentry --trust-domain" },
    "control-plane-trust-domain": { type: "string", arg: "T", help: "its own SPIFFE id's trust domain", default: "cluster.local", dapr: "sentry --control-plane-trust-domain" },
    "max-workload-cert-ttl": { type: "string", arg: "LIFETIME", help: "the longest certificate it signs", default: "24h" },
    "log-level": { type: "string", arg: "LEVEL", help: "debug, info, warn, error or fatal", default: "info", dapr: "sentry --log-level" },
    ...HELP_FLAG,
  },
  examples: ["meshlet sentry --port 50001", "meshlet sentry token create --namespace default"],
  subcommands: [SENTRY_TOKEN_SPEC],
} as const satisfies CommandSpec;

export const ACL_EXPLAIN_SPEC = {
  name: "acl explain",
  summary: "what a callee's access control decides for one call, and which rule decided",
  usage: "acl explain --from APP --to APP --verb V --method M [-c config] [flags]",
  flags: {
    from: { type: "string", arg: "APP", help: "the calling app-id (required)" },
    to: { type: "string", arg: "APP", help: "the called app-id, whose Configuration -c is (required)" },
    verb: { type: "string", arg: "VERB", help: "HTTP verb (required)" },
    method: { type: "string", arg: "PATH", help: "the method path, as orders/7 (required)" },
    config: { type: "string", short: "c", arg: "FILE", help: "the callee's Configuration (spec.accessControl)", dapr: "dapr run --config" },
    "from-namespace": { type: "string", arg: "NS", help: "the caller's namespace", default: "default" },
    "from-trust-domain": { type: "string", arg: "T", help: "the caller's trust domain", default: "public" },
    "no-mtls": { type: "boolean", help: "the caller is not verified: only the global defaultAction applies" },
    ...HELP_FLAG,
  },
  examples: ["meshlet acl explain --from pythonapp --to nodeapp --verb POST --method neworder -c nodeapp.yaml"],
} as const satisfies CommandSpec;

export const ACL_SPEC = {
  name: "acl",
  summary: "access control questions, answered offline",
  usage: "acl explain [flags]",
  flags: { ...HELP_FLAG },
  examples: ACL_EXPLAIN_SPEC.examples,
  subcommands: [ACL_EXPLAIN_SPEC],
} as const satisfies CommandSpec;
