// Access control end to end, as in Dapr's hello-world example: the callee's Configuration denies
// POST /neworder from pythonapp; the verified caller is denied with Dapr's 403, other verbs and
// methods pass, a reload changes the rules in place and a broken file keeps the old ones. Without
// mTLS only the global defaultAction counts.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import { execFileSync } from "node:child_process";
import { killAll, MESHLET, scrapeMetrics, startSidecar, tempFile, tempHome, waitFor, type Sidecar, expectOutput } from "../helpers.ts";

const acl = (action: "allow" | "deny", extra = "") => `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: nodeappconfig
spec:
${extra}  accessControl:
    defaultAction: allow
    trustDomain: "public"
    policies:
    - appId: pythonapp
      defaultAction: allow
      trustDomain: 'public'
      namespace: "default"
      operations:
      - name: /neworder
        httpVerb: ['POST']
        action: ${action}
`;

let config: string;
let nodeapp: Sidecar;
let pythonapp: Sidecar;

beforeAll(async () => {
  const home = tempHome();
  config = tempFile("nodeappconfig.yaml", acl("deny"));
  nodeapp = await startSidecar({ appId: "nodeapp", home, echo: true, args: ["-c", config] });
  pythonapp = await startSidecar({ appId: "pythonapp", home });
});
afterAll(killAll);

const neworder = (verb = "POST", s = pythonapp, target = "nodeapp") =>
  fetch(`${s.url}/v1.0/invoke/${target}/method/neworder`, { method: verb, body: verb === "POST" ? '{"orderId":1}' : undefined });

describe("access control on the verified caller", () => {
  it("denies POST /neworder from pythonapp with Dapr's 403 and says which rule decided", async () => {
    const r = await neworder();
    expect([r.status, r.headers.get("meshlet-reason")]).toEqual([403, "access_denied"]);
    const body = (await r.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_DIRECT_INVOKE");
    expect(body.message).toContain("failed to invoke, id: nodeapp, err: rpc error: code = PermissionDenied desc = access control policy has denied access to id: spiffe://public/ns/default/pythonapp operation: neworder verb: POST");
    expect(body.message).toContain(`operation /neworder verb POST: deny (${config}:`);
  });

  it("lets other verbs and methods through, and counts both in Dapr's metrics", async () => {
    expect((await neworder("GET")).status).toBe(200);
    const other = await fetch(`${pythonapp.url}/v1.0/invoke/nodeapp/method/orders`, { method: "POST", body: "x" });
    expect(other.status).toBe(200);
    const metrics = await scrapeMetrics(nodeapp);
    expect(metrics).toMatch(/dapr_runtime_acl_app_policy_action_blocked_total\{app_id="pythonapp",trustDomain="public",namespace="default",httpverb="POST"\} [1-9]/);
    expect(metrics).toMatch(/dapr_runtime_acl_app_policy_action_allowed_total\{app_id="pythonapp",trustDomain="public",namespace="default",httpverb="GET"\} [1-9]/);
  });

  it("applies an edited Configuration without a restart, and keeps the rules in force when the edit is broken", async () => {
    fs.writeFileSync(config, acl("allow"));
    await waitFor("the reloaded rule to allow the call", async () => (await neworder()).status === 200, 10_000);
    fs.writeFileSync(config, acl("deny").replace("defaultAction: allow\n    trustDomain", "defaultAction: sometimes\n    trustDomain"));
    await waitFor("the broken file to be reported", async () => nodeapp.output().includes("configuration not reloaded: the rules in force stay"), 10_000);
    await expectOutput(nodeapp, /defaultAction: \\"sometimes\\" is not allow or deny|defaultAction: "sometimes" is not allow or deny/);
    expect((await neworder()).status).toBe(200);
    fs.writeFileSync(config, acl("deny"));
    await waitFor("the denial to come back", async () => (await neworder()).status === 403, 10_000);
  });

  it("meshlet acl explain gives the same answer and the rule", () => {
    const out = execFileSync(MESHLET, ["acl", "explain", "--from", "pythonapp", "--to", "nodeapp", "--verb", "post", "--method", "neworder", "-c", config], { encoding: "utf8" });
    expect(out).toMatch(/^deny: POST neworder from pythonapp to nodeapp/);
    expect(out).toContain(`operation /neworder verb POST: deny (${config}:`);
    const get = execFileSync(MESHLET, ["acl", "explain", "--from", "pythonapp", "--to", "nodeapp", "--verb", "GET", "--method", "neworder", "-c", config], { encoding: "utf8" });
    expect(get).toMatch(/^allow: /);
  });
});

describe("access control without mTLS", () => {
  it("only the global defaultAction counts: the caller is not verified", async () => {
    const home = tempHome();
    const plain = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: plain}
spec:
  mtls: {enabled: false}
  accessControl:
    defaultAction: deny
    policies:
    - {appId: frontend, trustDomain: public, namespace: default, defaultAction: allow}
`;
    const cfg = tempFile("plain-acl.yaml", plain);
    await startSidecar({ appId: "backend", home, echo: true, args: ["-c", cfg] });
    const frontend = await startSidecar({ appId: "frontend", home, args: ["-c", tempFile("plain.yaml", "kind: Configuration\nspec:\n  mtls: {enabled: false}\n")] });
    const r = await fetch(`${frontend.url}/v1.0/invoke/backend/method/x`);
    expect([r.status, r.headers.get("meshlet-reason")]).toEqual([403, "access_denied"]);
    expect(((await r.json()) as { message: string }).message).toContain("an unverified caller");
  });
});
