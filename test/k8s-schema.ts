// Checks Kubernetes documents against the OpenAPI schemas of a current Kubernetes release, through
// kubernetes-models (its generated models validate with ajv): no schema written here.

export type K8sDoc = Record<string, unknown>;

/** Validates one document; throws naming the kind, name and the first schema violation. */
export async function validateK8s(doc: K8sDoc): Promise<void> {
  const apiVersion = String(doc.apiVersion ?? "");
  const kind = String(doc.kind ?? "");
  if (!/^[A-Za-z0-9.]+(\/v\d+\w*)?$/.test(apiVersion) || !/^[A-Z]\w+$/.test(kind)) throw new Error(`not a Kubernetes document: apiVersion "${apiVersion}", kind "${kind}"`);
  let mod: Record<string, new (d: K8sDoc) => { validate(): void }>;
  try {
    mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as typeof mod;
  } catch {
    throw new Error(`${apiVersion} ${kind} is not a kind of the Kubernetes API`);
  }
  const Model = mod[kind]!;
  try {
    new Model(doc).validate();
  } catch (e) {
    const name = (doc.metadata as { name?: string } | undefined)?.name;
    throw new Error(`${kind} ${name}: ${(e as Error).message}`);
  }
}
