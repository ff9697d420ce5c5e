// The injector's decision for one AdmissionReview (admission.k8s.io/v1): a Pod asking for a
// sidecar is answered with a JSON patch that adds it (the same mutation as `meshlet inject`);
// anything else is allowed unchanged; a bad annotation refuses the Pod with the reason.

import jsonpatch from "fast-json-patch";
import { AnnotationError, wantsSidecar } from "./annotations.ts";
import { InjectError, injectTemplate, type InjectOptions } from "./inject.ts";

type Obj = Record<string, unknown>;

export class ReviewError extends Error {}

const obj = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});

/** The AdmissionReview answer, or a ReviewError (the caller's 400) when the request is not one. */
export function review(body: unknown, o: InjectOptions): Obj {
  const r = obj(body);
  if (r.apiVersion !== "admission.k8s.io/v1" || r.kind !== "AdmissionReview") {
    throw new ReviewError(`expected an admission.k8s.io/v1 AdmissionReview, got ${String(r.apiVersion ?? "no apiVersion")} ${String(r.kind ?? "no kind")}`);
  }
  const req = obj(r.request);
  if (typeof req.uid !== "string" || req.uid === "") throw new ReviewError("the AdmissionReview has no request.uid");
  const answer = (response: Obj): Obj => ({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: req.uid, ...response } });
  const pod = obj(req.object);
  if (obj(req.kind).kind !== "Pod" || (req.operation !== undefined && req.operation !== "CREATE") || !wantsSidecar(obj(obj(pod.metadata).annotations))) return answer({ allowed: true });
  const mutated = structuredClone(pod);
  const metadata = (mutated.metadata ??= {}) as Obj;
  const spec = (mutated.spec ??= {}) as Obj;
  // A Deployment's pods have only a generated name ("nodeapp-7d9f5-"): Dapr's default app-id then is its stem.
  const name = String(metadata.name ?? "") || String(metadata.generateName ?? "").replace(/-[a-z0-9]{5,10}-?$/, "").replace(/-$/, "");
  const namespace = String(req.namespace ?? metadata.namespace ?? "default");
  const where = `pod ${name || "(unnamed)"} in ${namespace}`;
  try {
    injectTemplate({ metadata, spec }, { where, name, namespace, components: [] }, o);
  } catch (e) {
    if (e instanceof AnnotationError || e instanceof InjectError) return answer({ allowed: false, status: { code: 400, message: e.message } });
    throw e;
  }
  const patch = jsonpatch.compare(pod, mutated);
  return answer({ allowed: true, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") });
}
