// The definition of `meshlet inject`: flags, defaults and examples, read by parsing and --help.

import { HELP_FLAG, type CommandSpec } from "../command-spec.ts";
import { MESHLET_VERSION } from "../../proxy/config.ts";

export const INJECT_SPEC = {
  name: "inject",
  summary: "add the meshlet sidecar to Kubernetes workloads annotated dapr.io/enabled: \"true\" (like linkerd inject)",
  usage: "inject [FILE|DIR|-]... [--sentry-address ADDR --sentry-token-secret NAME | --cert-secret NAME] [flags] > out.yaml",
  args: "FILE|DIR|-: YAML files, folders of them (not recursive), or - for stdin (the default); any number of documents",
  flags: {
    image: { type: "string", arg: "IMAGE", help: "the sidecar image (deploy/Dockerfile)", default: `meshlet:${MESHLET_VERSION}` },
    "sentry-address": { type: "string", arg: "HOST:PORT", help: "the sidecars get certificates from this `meshlet sentry`", dapr: "daprd --sentry-address" },
    "sentry-token-secret": { type: "string", arg: "NAME", help: "the Secret holding the join token (key: token), with --sentry-address" },
    "cert-secret": { type: "string", arg: "NAME", help: "or: a Secret with tls.crt, tls.key and ca.crt (cert-manager's), renewed in place" },
    secret: { type: "string", multiple: true, arg: "NAME", help: "also mount this Secret for the kubernetes secret store (Components not in the input)" },
    uninject: { type: "boolean", help: "take meshlet out again: the sidecar, its volumes and env, the Services it made" },
    ...HELP_FLAG,
  },
  examples: [
    "meshlet inject deploy.yaml --cert-secret meshlet-certs | kubectl apply -f -",
    "kubectl get deploy nodeapp -o yaml | meshlet inject --sentry-address meshlet-sentry.meshlet:50001 --sentry-token-secret meshlet-join | kubectl apply -f -",
    "meshlet inject --uninject injected.yaml",
  ],
} as const satisfies CommandSpec;

export const INJECTOR_SPEC = {
  name: "injector",
  summary: "serve meshlet inject as a Kubernetes mutating admission webhook (AdmissionReview v1 over HTTPS)",
  usage: "injector --tls-cert FILE --tls-key FILE [--port 8443] [identity flags] [--image IMAGE]",
  flags: {
    "tls-cert": { type: "string", arg: "FILE", help: "the webhook's serving certificate (PEM; cert-manager's tls.crt), read again when it changes" },
    "tls-key": { type: "string", arg: "FILE", help: "its private key (PEM; tls.key)" },
    port: { type: "string", arg: "PORT", help: "HTTPS port", default: "8443" },
    "listen-address": { type: "string", arg: "ADDR", help: "listen address", default: "0.0.0.0" },
    image: INJECT_SPEC.flags.image,
    "sentry-address": INJECT_SPEC.flags["sentry-address"],
    "sentry-token-secret": INJECT_SPEC.flags["sentry-token-secret"],
    "cert-secret": INJECT_SPEC.flags["cert-secret"],
    secret: { type: "string", multiple: true, arg: "NAME", help: "a Secret to mount in every injected pod for the kubernetes secret store" },
    ...HELP_FLAG,
  },
  examples: ["meshlet injector --tls-cert /tls/tls.crt --tls-key /tls/tls.key --cert-secret meshlet-certs"],
} as const satisfies CommandSpec;
