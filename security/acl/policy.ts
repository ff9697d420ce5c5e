// Dapr's service-invocation access control as data and its one decision: given the verified caller
// (or none, without mTLS), the HTTP verb and the method, allow or deny, and which rule decided.
// Semantics follow daprd: policies keyed by caller app-id and namespace, operations matched by
// path segment (a listed operation covers what lies below it; `*` globs within a segment, a
// trailing `/*` is one more segment, `/**` any depth), then the verb: exact, else `*`.

import type { PeerIdentity } from "../../core/incoming.ts";

export type Action = "allow" | "deny";

/** One operation entry: its verbs' actions, and where it was written. */
export interface OperationRule {
  readonly name: string;
  readonly verbs: ReadonlyMap<string, Action>;
  readonly at: string;
}

/** A node of the operation tree: one path segment (`/op1`, `/*`, `/**`, `/op*`). */
export interface OperationNode {
  readonly segment: string;
  rule: OperationRule | null;
  readonly children: OperationNode[];
}

export interface AppPolicy {
  readonly appId: string;
  readonly namespace: string;
  readonly trustDomain: string;
  /** null: the global default stays the baseline. */
  readonly defaultAction: Action | null;
  readonly operations: OperationNode;
  readonly at: string;
}

export interface AccessControl {
  readonly defaultAction: Action;
  /** Where the global default came from: written, or implied (deny because policies exist). */
  readonly defaultFrom: string;
  readonly trustDomain: string;
  /** Keyed `appId||namespace`, as daprd keys them. */
  readonly policies: ReadonlyMap<string, AppPolicy>;
}

export interface Decision {
  readonly allowed: boolean;
  /** Which rule decided, for logs, errors and `meshlet acl explain`. */
  readonly rule: string;
  /** "app" when a caller's policy decided, "global" otherwise (Dapr's metric label). */
  readonly level: "app" | "global";
}

export const policyKey = (appId: string, namespace: string) => `${appId}||${namespace}`;

/** `*` within a segment matches any run of characters (also none). */
function glob(text: string, pattern: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return text === pattern;
  if (!text.startsWith(parts[0]!) || !text.endsWith(parts[parts.length - 1]!)) return false;
  let pos = parts[0]!.length;
  const end = text.length - parts[parts.length - 1]!.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const at = text.indexOf(parts[i]!, pos);
    if (at < 0 || at + parts[i]!.length > end) return false;
    pos = at + parts[i]!.length;
  }
  return pos <= end;
}

function child(node: OperationNode, segment: string, last: boolean): OperationNode | null {
  for (const c of node.children) {
    if (c.segment === segment) return c;
    if (c.segment === "/*") {
      if (last) return c;
      continue;
    }
    if (c.segment === "/**") return c;
    if (glob(segment, c.segment)) return c;
  }
  return null;
}

/** The rule for `operation` (lower-cased, leading `/`), or null when none matches. */
export function findOperation(root: OperationNode, operation: string): OperationRule | null {
  const segments = operation.split("/");
  let node: OperationNode = root;
  for (let i = 1; i < segments.length; i++) {
    const last = i === segments.length - 1;
    const next = child(node, "/" + segments[i], last);
    if (!next) return null;
    node = next;
    if (node.rule) {
      // A single-segment wildcard before the end goes on down; anything else covers what is below.
      if (!last && node.segment === "/*") continue;
      return node.rule;
    }
    if (last) {
      const any = child(node, "/*", true);
      return any?.rule ?? null;
    }
  }
  return null;
}

/** Adds `rule` under its segments; the first rule written for an operation wins (as in daprd). */
export function putOperation(root: OperationNode, rule: OperationRule): void {
  const segments = rule.name.split("/");
  let node = root;
  for (let i = 1; i < segments.length; i++) {
    const seg = "/" + segments[i];
    let next = node.children.find((c) => c.segment === seg);
    if (!next) node.children.push((next = { segment: seg, rule: null, children: [] }));
    node = next;
  }
  node.rule ??= rule;
}

/** The method as matched: leading `/`, duplicate slashes collapsed, lower-cased (HTTP). */
export function normalizeOperation(method: string): string {
  const m = ("/" + method).replace(/\/{2,}/g, "/");
  return m.toLowerCase();
}

/** Decides one call. `caller` is the verified identity; null without mTLS (only the global default counts). */
export function decide(acl: AccessControl | null, caller: PeerIdentity | null, verb: string, method: string): Decision {
  if (!acl) return { allowed: true, rule: "no accessControl in the Configuration: every caller is allowed", level: "global" };
  const global = (why: string): Decision => ({ allowed: acl.defaultAction === "allow", rule: `global defaultAction ${acl.defaultAction} (${acl.defaultFrom}): ${why}`, level: "global" });
  if (!caller) return global("the caller is not verified (mTLS is off), so only the global default applies");
  const p = acl.policies.get(policyKey(caller.appId, caller.namespace));
  if (!p) return global(`no policy for app ${caller.appId} in namespace ${caller.namespace}`);
  if (p.trustDomain !== caller.trustDomain) return global(`the policy for ${caller.appId} (${p.at}) is for trust domain ${p.trustDomain}, the caller is in ${caller.trustDomain}`);
  let action: Action = p.defaultAction ?? acl.defaultAction;
  let rule = p.defaultAction ? `defaultAction ${p.defaultAction} of the policy for ${caller.appId} (${p.at})` : `global defaultAction ${acl.defaultAction} (${acl.defaultFrom}), the policy for ${caller.appId} (${p.at}) sets none`;
  const op = findOperation(p.operations, normalizeOperation(method));
  if (op) {
    const v = op.verbs.get(verb.toUpperCase());
    const any = op.verbs.get("*");
    if (v) {
      action = v;
      rule = `operation ${op.name} verb ${verb.toUpperCase()}: ${v} (${op.at})`;
    } else if (any) {
      action = any;
      rule = `operation ${op.name} verb *: ${any} (${op.at})`;
    } else {
      rule += `; operation ${op.name} (${op.at}) lists no rule for ${verb.toUpperCase()}`;
    }
  }
  const level = p.defaultAction ? "app" : "global";
  return { allowed: action === "allow", rule, level };
}
