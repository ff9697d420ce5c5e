// `meshlet injector` as the API server calls it: real AdmissionReview requests over TLS (a
// certificate openssl made), the JSON patch applied to the Pod and the result checked against
// Kubernetes' schemas; other kinds pass, a bad annotation refuses the Pod with the reason, and a
// request that is not an AdmissionReview v1 is a 400.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import https from "node:https";
import jsonpatch from "fast-json-patch";
import { freePort, killAll, MESHLET, spawnProc, StopWaiting, tempHome, waitFor, type Proc } from "../helpers.ts";
import { serverCerts } from "../tls.ts";
import { validateK8s } from "../k8s-schema.ts";

let port: number;
let ca: string;
let injector: Proc;
afterAll(killAll);

function post(body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = typeof body === "string" ? body : JSON.stringify(body);
    const req = https.request({ host: "127.0.0.1", port, path: "/mutate?timeout=10s", method: "POST", ca, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

const pod = (annotations: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { generateName: "nodeapp-7d9f5c8b4-", namespace: "default", labels: { app: "node" }, annotations },
  spec: { containers: [{ name: "node", image: "example/node", ports: [{ containerPort: 3000 }] }] },
});
const reviewOf = (object: unknown, kind = "Pod") => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: { uid: "7f0b2b6e-1d3c-4a8e-9e2b-0a1b2c3d4e5f", kind: { group: "", version: "v1", kind }, resource: { group: "", version: "v1", resource: `${kind.toLowerCase()}s` }, namespace: "default", operation: "CREATE", object },
});

beforeAll(async () => {
  const certs = serverCerts();
  ca = fs.readFileSync(certs.ca, "utf8");
  port = await freePort();
  injector = spawnProc(MESHLET, ["injector", "--tls-cert", certs.cert, "--tls-key", certs.key, "--port", String(port), "--listen-address", "127.0.0.1", "--cert-secret", "meshlet-certs", "--image", "meshlet:test"], { MESHLET_HOME: tempHome() });
  await waitFor("the injector", async () => {
    if (injector.child.exitCode !== null) throw new StopWaiting(injector.output());
    return new Promise<boolean>((resolve) => https.get({ host: "127.0.0.1", port, path: "/healthz", ca }, (r) => resolve(r.statusCode === 200)).on("error", () => resolve(false)));
  });
});

describe("meshlet injector (AdmissionReview v1 over TLS)", () => {
  it("patches an annotated Pod with the sidecar; the patched Pod is valid", async () => {
    const p = pod({ "dapr.io/enabled": "true", "dapr.io/app-port": "3000" });
    const r = await post(reviewOf(p));
    expect(r.status).toBe(200);
    const answer = JSON.parse(r.text);
    expect(answer).toMatchObject({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "7f0b2b6e-1d3c-4a8e-9e2b-0a1b2c3d4e5f", allowed: true, patchType: "JSONPatch" } });
    const patch = JSON.parse(Buffer.from(answer.response.patch, "base64").toString("utf8"));
    const patched = jsonpatch.applyPatch(structuredClone(p), patch).newDocument as Record<string, unknown>;
    const containers = (patched.spec as { containers: Array<{ name: string; args?: string[] }> }).containers;
    const sidecar = containers.find((c) => c.name === "meshlet")!;
    // The app-id from the Deployment's generated pod name, as Dapr defaults it.
    expect(sidecar.args!.slice(0, 5)).toEqual(["run", "--app-id", "nodeapp", "--app-port", "3000"]);
    await validateK8s(patched);
  });

  it("lets other kinds and unannotated Pods through unchanged", async () => {
    for (const [object, kind] of [[pod({}), "Pod"], [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }, "ConfigMap"]] as const) {
      const answer = JSON.parse((await post(reviewOf(object, kind))).text);
      expect(answer.response).toEqual({ uid: "7f0b2b6e-1d3c-4a8e-9e2b-0a1b2c3d4e5f", allowed: true });
    }
  });

  it("refuses a Pod with a bad annotation, saying which and why", async () => {
    const answer = JSON.parse((await post(reviewOf(pod({ "dapr.io/enabled": "true", "dapr.io/app-port": "abc" })))).text);
    expect(answer.response).toEqual({ uid: "7f0b2b6e-1d3c-4a8e-9e2b-0a1b2c3d4e5f", allowed: false, status: { code: 400, message: 'pod nodeapp in default: annotation dapr.io/app-port: "abc" is not a port (1-65535)' } });
  });

  it("answers 400 to what is not an AdmissionReview v1", async () => {
    const v1beta1 = { ...reviewOf(pod({})), apiVersion: "admission.k8s.io/v1beta1" };
    expect(await post(v1beta1)).toEqual({ status: 400, text: "expected an admission.k8s.io/v1 AdmissionReview, got admission.k8s.io/v1beta1 AdmissionReview\n" });
    expect((await post("{not json")).status).toBe(400);
    expect((await post({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {} })).text).toBe("the AdmissionReview has no request.uid\n");
    expect(injector.child.exitCode).toBeNull();
  });
});
