// Dapr's secrets HTTP API: GET /v1.0/secrets/<store>/<key> answers {"<key>": "<value>"}, and
// GET /v1.0/secrets/<store>/bulk every secret as {"<key>": {"<key>": "<value>"}}, with daprd's
// errors for a missing store, an unknown one and a missing key.

import { SidecarError } from "../core/errors.ts";
import { textResponse } from "../core/wire-response.ts";
import type { Route } from "../proxy/route.ts";
import type { SecretStore } from "./stores.ts";

type SecretsRoute = Extract<Route, { kind: "secrets" }>;

const json = (v: unknown) => textResponse(JSON.stringify(v), { headers: { "content-type": "application/json" } });

export function secretsEndpoint(r: SecretsRoute, stores: ReadonlyMap<string, SecretStore>): Response {
  if (stores.size === 0) throw new SidecarError("secret_stores_not_configured", "secret store is not configured");
  const store = stores.get(r.store);
  if (!store) throw new SidecarError("secret_store_not_found", `failed finding secret store with key ${r.store}`);
  if (r.bulk) {
    const out: Record<string, Record<string, string>> = {};
    for (const [k, v] of Object.entries(store.all())) out[k] = { [k]: v };
    return json(out);
  }
  if (store.getMap) {
    // A Kubernetes Secret answers with all its keys, as Dapr's kubernetes store does.
    const m = store.getMap(r.key);
    if (m === null) throw new SidecarError("secret_get", `failed getting secret with key ${r.key} from secret store ${r.store}: secret ${r.key} not found`);
    return json(m);
  }
  const value = store.get(r.key);
  if (value === null) throw new SidecarError("secret_get", `failed getting secret with key ${r.key} from secret store ${r.store}: secret ${r.key} not found`);
  return json({ [r.key]: value });
}
