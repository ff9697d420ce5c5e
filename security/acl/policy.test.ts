// Access control as Dapr documents it: the five scenarios and the hello-world example of Dapr's
// "service invocation access control" page as a table, the operation-matching rules one by one,
// and the validation of the YAML (file:line, unknown fields).

import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfiguration } from "../../config/configuration.ts";
import { decide } from "./policy.ts";

function config(yaml: string) {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "acl-")), "config.yaml");
  fs.writeFileSync(f, `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: appconfig\nspec:\n${yaml}`);
  return { file: f, acl: () => loadConfiguration(f).accessControl };
}

const id = (appId: string, namespace = "default", trustDomain = "public") => ({ appId, namespace, trustDomain });

const SCENARIOS = {
  s1: `  accessControl:
    defaultAction: deny
    trustDomain: "public"
    policies:
    - appId: app1
      defaultAction: allow
      trustDomain: 'public'
      namespace: "default"
`,
  s2: `  accessControl:
    defaultAction: deny
    trustDomain: "public"
    policies:
    - appId: app1
      defaultAction: deny
      trustDomain: 'public'
      namespace: "default"
      operations:
      - name: /op1
        httpVerb: ['*']
        action: allow
`,
  s3: `  accessControl:
    defaultAction: deny
    trustDomain: "public"
    policies:
    - appId: app1
      defaultAction: deny
      trustDomain: 'public'
      namespace: "default"
      operations:
      - name: /op1
        httpVerb: ['POST', 'PUT']
        action: allow
    - appId: app2
      defaultAction: deny
      trustDomain: 'myDomain'
      namespace: "ns1"
      operations:
      - name: /op2
        action: allow
`,
  s4: `  accessControl:
    defaultAction: allow
    trustDomain: "public"
    policies:
    - appId: app1
      defaultAction: allow
      trustDomain: 'public'
      namespace: "default"
      operations:
      - name: /op1/*
        httpVerb: ['*']
        action: deny
`,
  s5: `  accessControl:
    defaultAction: allow
    trustDomain: "public"
    policies:
    - appId: app1
      defaultAction: allow
      trustDomain: 'public'
      namespace: "ns1"
    - appId: app1
      defaultAction: deny
      trustDomain: 'public'
      namespace: "ns2"
`,
  hello: `  tracing:
    samplingRate: "1"
  accessControl:
    defaultAction: allow
    trustDomain: "public"
    policies:
    - appId: pythonapp
      defaultAction: allow
      trustDomain: 'myDomain'
      namespace: "default"
      operations:
      - name: /neworder
        httpVerb: ['POST']
        action: deny
`,
};

type Row = [keyof typeof SCENARIOS, ReturnType<typeof id> | null, string, string, boolean];

const TABLE: Row[] = [
  // Scenario 1: only app1 (public/default) gets in, to anything.
  ["s1", id("app1"), "GET", "/anything", true],
  ["s1", id("app1"), "DELETE", "/a/b/c", true],
  ["s1", id("app2"), "GET", "/anything", false],
  ["s1", id("app1", "other"), "GET", "/x", false],
  ["s1", id("app1", "default", "otherDomain"), "GET", "/x", false],
  ["s1", null, "GET", "/x", false],
  // Scenario 2: only app1's op1, with any verb.
  ["s2", id("app1"), "GET", "/op1", true],
  ["s2", id("app1"), "PATCH", "/op1", true],
  ["s2", id("app1"), "GET", "/op2", false],
  ["s2", id("app2"), "GET", "/op1", false],
  // Scenario 3: app1 op1 with POST/PUT only; app2 (myDomain/ns1) op2 has no verb, so HTTP stays at its default.
  ["s3", id("app1"), "POST", "/op1", true],
  ["s3", id("app1"), "PUT", "/op1", true],
  ["s3", id("app1"), "GET", "/op1", false],
  ["s3", id("app2", "ns1", "myDomain"), "POST", "/op2", false],
  ["s3", id("app2", "ns1", "public"), "POST", "/op2", false],
  // Scenario 4: everything allowed except app1 on one segment under /op1.
  ["s4", id("app1"), "GET", "/op1/a", false],
  ["s4", id("app1"), "POST", "/op1/b", false],
  // As in daprd, /op1/* also covers /op1 itself (the wildcard is tried when the path ends).
  ["s4", id("app1"), "GET", "/op1", false],
  ["s4", id("app1"), "GET", "/op1/a/b", true],
  ["s4", id("app1"), "GET", "/op2/a", true],
  ["s4", id("app2"), "GET", "/op1/a", true],
  // Scenario 5: the same app-id in two namespaces.
  ["s5", id("app1", "ns1"), "GET", "/x", true],
  ["s5", id("app1", "ns2"), "GET", "/x", false],
  ["s5", id("app1", "ns3"), "GET", "/x", true],
  // Hello world: pythonapp (myDomain) may not POST /neworder; other verbs and methods pass.
  ["hello", id("pythonapp", "default", "myDomain"), "POST", "/neworder", false],
  ["hello", id("pythonapp", "default", "myDomain"), "POST", "/NewOrder", false],
  ["hello", id("pythonapp", "default", "myDomain"), "GET", "/neworder", true],
  ["hello", id("pythonapp", "default", "myDomain"), "POST", "/other", true],
  ["hello", id("pythonapp", "default", "public"), "POST", "/neworder", true],
];

describe("Dapr's documented access-control scenarios", () => {
  it.each(TABLE)("%s: %j %s %s -> allowed %s", (scenario, caller, verb, method, allowed) => {
    const d = decide(config(SCENARIOS[scenario]).acl(), caller, verb, method);
    expect(d.allowed, d.rule).toBe(allowed);
  });
});

describe("operation matching", () => {
  const ops = (names: string[], action = "deny") =>
    config(`  accessControl:
    defaultAction: allow
    policies:
    - appId: c
      defaultAction: allow
      trustDomain: public
      namespace: default
      operations:
${names.map((n) => `      - { name: "${n}", httpVerb: ["*"], action: ${action} }`).join("\n")}
`).acl();
  const denied = (acl: ReturnType<typeof ops>, method: string) => !decide(acl, id("c"), "GET", method).allowed;

  it("an entry covers what lies below it", () => {
    const acl = ops(["/op1"]);
    expect([denied(acl, "/op1"), denied(acl, "/op1/x"), denied(acl, "/op1/x/y"), denied(acl, "/op10"), denied(acl, "/op")]).toEqual([true, true, true, false, false]);
  });

  it("a trailing /* is the path itself or one more segment, not two; /** any depth", () => {
    const one = ops(["/a/*"]);
    expect([denied(one, "/a"), denied(one, "/a/b"), denied(one, "/a/b/c")]).toEqual([true, true, false]);
    const any = ops(["/a/**"]);
    expect([denied(any, "/a/b"), denied(any, "/a/b/c/d")]).toEqual([true, true]);
  });

  it("* inside a segment is a glob; matching is case-insensitive for HTTP", () => {
    const acl = ops(["/order*/v?", "/Items"]);
    expect([denied(acl, "/orders/v?"), denied(acl, "/order/v?"), denied(acl, "/ord/v?")]).toEqual([true, true, false]);
    expect([denied(acl, "/items"), denied(acl, "/ITEMS/7")]).toEqual([true, true]);
  });

  it("a verb listed exactly wins over *, and * over the policy's default", () => {
    const acl = config(`  accessControl:
    defaultAction: deny
    policies:
    - appId: c
      defaultAction: deny
      trustDomain: public
      namespace: default
      operations:
      - { name: /x, httpVerb: ["*"], action: allow }
      - { name: /y, httpVerb: ["GET"], action: allow }
`).acl();
    expect(decide(acl, id("c"), "DELETE", "/x").allowed).toBe(true);
    expect(decide(acl, id("c"), "GET", "/y").allowed).toBe(true);
    const d = decide(acl, id("c"), "POST", "/y");
    expect(d.allowed).toBe(false);
    expect(d.rule).toContain("lists no rule for POST");
  });

  it("says which rule decided, with its file and line", () => {
    const c = config(SCENARIOS.s2);
    const d = decide(c.acl(), id("app1"), "GET", "/op1");
    expect(d.rule).toBe(`operation /op1 verb *: allow (${c.file}:15)`);
    expect(decide(c.acl(), null, "GET", "/op1").rule).toContain("not verified");
  });
});

describe("defaults and validation", () => {
  it("no section, or an empty one, allows everyone; policies without a global default deny the rest", () => {
    expect(config("  tracing: {}\n").acl()).toBeNull();
    expect(decide(null, null, "GET", "/x").allowed).toBe(true);
    const acl = config("  accessControl:\n    policies:\n    - { appId: a, trustDomain: public, namespace: default, defaultAction: allow }\n").acl()!;
    expect(acl.defaultAction).toBe("deny");
    expect(decide(acl, id("a"), "GET", "/x").allowed).toBe(true);
    expect(decide(acl, id("b"), "GET", "/x").allowed).toBe(false);
  });

  it("reports every mistake with file:line, and unknown fields by name", () => {
    const c = config(`  accessControl:
    defaultAction: maybe
    trustDomian: public
    policies:
    - appId: a
      namespace: default
      operations:
      - { name: /x, httpVerb: [FETCH], action: allow, verbs: [] }
`);
    let msg = "";
    try {
      c.acl();
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain(`${c.file}:7: spec.accessControl.defaultAction: "maybe" is not allow or deny`);
    expect(msg).toContain(`${c.file}:8: spec.accessControl.trustDomian: unknown field`);
    expect(msg).toContain(`spec.accessControl.policies[0].trustDomain: is required`);
    expect(msg).toContain(`spec.accessControl.policies[0].operations[0].verbs: unknown field`);
    expect(msg).toContain(`"FETCH" is not an HTTP verb`);
  });
});
