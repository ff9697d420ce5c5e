// Reads a Configuration's `spec.accessControl` into frozen AccessControl data, validated in full:
// unknown fields, bad actions, missing trustDomain/namespace/appId are problems with file:line.

import { isSeq, type Node } from "yaml";
import type { Reader } from "../../config/yaml-reader.ts";
import { DEFAULT_TRUST_DOMAIN } from "../spiffe.ts";
import { type AccessControl, type Action, type AppPolicy, type OperationNode, policyKey, putOperation } from "./policy.ts";

function action(r: Reader, node: Node | null, field: string): Action | undefined {
  const s = r.str(node, field);
  if (s === undefined) return undefined;
  const a = s.toLowerCase();
  if (a === "allow" || a === "deny") return a;
  r.fail(node, field, `"${s}" is not allow or deny`);
  return undefined;
}

function list(r: Reader, node: Node | null, field: string): Node[] {
  if (node === null) return [];
  if (!isSeq(node)) {
    r.fail(node, field, "expected a list");
    return [];
  }
  return node.items as Node[];
}

const VERBS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*"]);

function operations(r: Reader, node: Node | null, field: string): OperationNode {
  const root: OperationNode = { segment: "/", rule: null, children: [] };
  list(r, node, field).forEach((item, i) => {
    const f = `${field}[${i}]`;
    const v: Record<string, Node | null> = {};
    for (const [k, val] of r.entries(item, f, ["name", "httpVerb", "action"])) v[k] = val;
    const rawName = v.name !== undefined ? r.str(v.name, `${f}.name`) : undefined;
    if (v.name === undefined) r.fail(item, `${f}.name`, "is required");
    // Documented default: an operation without `action` allows.
    const act = v.action !== undefined ? action(r, v.action, `${f}.action`) : "allow";
    const verbs = new Map<string, Action>();
    list(r, v.httpVerb ?? null, `${f}.httpVerb`).forEach((vn, j) => {
      const verb = r.str(vn, `${f}.httpVerb[${j}]`)?.toUpperCase();
      if (verb === undefined) return;
      if (!VERBS.has(verb)) r.fail(vn, `${f}.httpVerb[${j}]`, `"${verb}" is not an HTTP verb or *`);
      else if (act) verbs.set(verb, act);
    });
    if (rawName === undefined || act === undefined) return;
    const name = ("/" + rawName.replace(/^\/+/, "")).toLowerCase();
    putOperation(root, { name, verbs, at: r.at(item) });
  });
  return root;
}

/** The access control in `node` (spec.accessControl), or null when it says nothing (allow all, as Dapr). */
export function parseAccessControl(r: Reader, node: Node | null, field = "spec.accessControl"): AccessControl | null {
  if (node === null) return null;
  const v: Record<string, Node | null> = {};
  for (const [k, val] of r.entries(node, field, ["defaultAction", "trustDomain", "policies"])) v[k] = val;
  const policyNodes = list(r, v.policies ?? null, `${field}.policies`);
  const written = v.defaultAction !== undefined ? action(r, v.defaultAction, `${field}.defaultAction`) : undefined;
  const td = v.trustDomain !== undefined ? r.str(v.trustDomain, `${field}.trustDomain`) : undefined;
  if (written === undefined && td === undefined && policyNodes.length === 0) return null;
  const policies = new Map<string, AppPolicy>();
  policyNodes.forEach((item, i) => {
    const f = `${field}.policies[${i}]`;
    const p: Record<string, Node | null> = {};
    for (const [k, val] of r.entries(item, f, ["appId", "defaultAction", "trustDomain", "namespace", "operations"])) p[k] = val;
    const req = (k: string) => {
      if (p[k] === undefined) {
        r.fail(item, `${f}.${k}`, "is required");
        return undefined;
      }
      return r.str(p[k]!, `${f}.${k}`);
    };
    const appId = req("appId");
    const trustDomain = req("trustDomain");
    const namespace = req("namespace");
    const defaultAction = p.defaultAction !== undefined ? action(r, p.defaultAction, `${f}.defaultAction`) : null;
    const ops = operations(r, p.operations ?? null, `${f}.operations`);
    if (!appId || !trustDomain || !namespace || defaultAction === undefined) return;
    const key = policyKey(appId, namespace);
    if (policies.has(key)) r.fail(item, f, `a second policy for app ${appId} in namespace ${namespace} (the first is at ${policies.get(key)!.at})`);
    else policies.set(key, Object.freeze({ appId, namespace, trustDomain, defaultAction, operations: ops, at: r.at(item) }));
  });
  const defaultAction: Action = written ?? (policyNodes.length ? "deny" : "allow");
  const defaultFrom = written ? `written at ${r.at(v.defaultAction!)}` : policyNodes.length ? "implied: policies exist" : "implied: no policies";
  return Object.freeze({ defaultAction, defaultFrom, trustDomain: td ?? DEFAULT_TRUST_DOMAIN, policies });
}
