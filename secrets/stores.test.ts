// Secret stores and secretKeyRef resolution: local.env (with a prefix), local.file (nested JSON
// flattened), and the errors that name the component's file:line.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ComponentSpec } from "../config/configuration.ts";
import { openSecretStores, resolveSecretRefs } from "./stores.ts";

const spec = (c: Partial<ComponentSpec> & Pick<ComponentSpec, "name" | "type">): ComponentSpec => ({ version: "v1", capabilities: [], metadata: {}, secretRefs: {}, secretStore: null, ignoreErrors: false, at: "c.yaml:1", ...c });

describe("secret stores", () => {
  it("reads environment variables (a prefix filters and is removed) and a JSON file flattened with ':'", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-secrets-")), "s.json");
    fs.writeFileSync(file, JSON.stringify({ redis: { password: "hunter2" }, token: "t0k", n: 3 }));
    const stores = openSecretStores(
      [spec({ name: "env", type: "secretstores.local.env", metadata: { prefix: "APP_" } }), spec({ name: "file", type: "secretstores.local.file", metadata: { secretsFile: file } })],
      { APP_DB: "pw", OTHER: "x" },
    );
    expect(stores.get("env")!.get("DB")).toBe("pw");
    expect(stores.get("env")!.get("OTHER")).toBeNull();
    expect(stores.get("env")!.all()).toEqual({ DB: "pw" });
    expect(stores.get("file")!.get("redis:password")).toBe("hunter2");
    expect(stores.get("file")!.all()).toEqual({ "redis:password": "hunter2", token: "t0k", n: "3" });
    expect(stores.get("file")!.get("toString")).toBeNull();
  });

  it("resolves secretKeyRef through auth.secretStore, and names file:line when it cannot", () => {
    const stores = openSecretStores([spec({ name: "env", type: "secretstores.local.env" })], { REDIS_PW: "s3cret" });
    const redis = spec({ name: "statestore", type: "state.redis", metadata: { redisHost: "h:1" }, secretRefs: { redisPassword: { name: "REDIS_PW", key: "REDIS_PW" } }, secretStore: "env" });
    expect(resolveSecretRefs([redis], stores)[0]!.metadata).toEqual({ redisHost: "h:1", redisPassword: "s3cret" });
    expect(() => resolveSecretRefs([{ ...redis, secretStore: null }], stores)).toThrow(/^c\.yaml:1: component statestore: secretKeyRef needs auth\.secretStore/);
    expect(() => resolveSecretRefs([{ ...redis, secretStore: "vault" }], stores)).toThrow(/auth\.secretStore vault is not a loaded secret store/);
    expect(() => resolveSecretRefs([{ ...redis, secretRefs: { redisPassword: { name: "NOPE", key: "NOPE" } } }], stores)).toThrow(/secret NOPE for redisPassword is not in secret store env/);
    expect(() => openSecretStores([spec({ name: "f", type: "secretstores.local.file", metadata: { secretsFile: "/nonexistent.json" } })])).toThrow(/^c\.yaml:1: component f: cannot read secretsFile/);
    expect(() => openSecretStores([spec({ name: "v", type: "secretstores.hashicorp.vault" })])).toThrow(/not supported by meshlet yet/);
  });
});

describe("the kubernetes secret store of an injected pod", () => {
  /** A Secret as the kubelet mounts it: keys are links into a hidden, atomically swapped ..data folder. */
  function mountSecret(dir: string, name: string, data: Record<string, string>): void {
    const ts = path.join(dir, name, "..2026_11_30_15_00_00.1");
    fs.mkdirSync(ts, { recursive: true });
    for (const [k, v] of Object.entries(data)) fs.writeFileSync(path.join(ts, k), v);
    fs.symlinkSync(path.basename(ts), path.join(dir, name, "..data"));
    for (const k of Object.keys(data)) fs.symlinkSync(path.join("..data", k), path.join(dir, name, k));
  }

  it("resolves secretKeyRef {name, key} from mounted Secrets, by default when auth.secretStore is absent, and answers the secrets API's map", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-k8s-secrets-"));
    mountSecret(dir, "redis", { "redis-password": "s3cret", "redis-user": "app" });
    const stores = openSecretStores([], { MESHLET_K8S_SECRETS_DIR: dir });
    const k8s = stores.get("kubernetes")!;
    expect(k8s.getMap!("redis")).toEqual({ "redis-password": "s3cret", "redis-user": "app" });
    expect(k8s.getMap!("nope")).toBeNull();
    expect(k8s.getMap!("../etc")).toBeNull();
    const [resolved] = resolveSecretRefs([spec({ name: "statestore", type: "state.redis", secretRefs: { redisPassword: { name: "redis", key: "redis-password" } } })], stores);
    expect(resolved!.metadata.redisPassword).toBe("s3cret");
    const viaName = resolveSecretRefs([spec({ name: "s", type: "state.redis", secretStore: "kubernetes", secretRefs: { redisUsername: { name: "redis", key: "redis-user" } } })], stores);
    expect(viaName[0]!.metadata.redisUsername).toBe("app");
    expect(() => resolveSecretRefs([spec({ name: "s", type: "state.redis", secretRefs: { redisPassword: { name: "redis", key: "other" } } })], stores)).toThrow("c.yaml:1: component s: secret redis key other for redisPassword is not in secret store kubernetes");
    // Outside such a pod there is no kubernetes store: the component must name one.
    expect(() => resolveSecretRefs([spec({ name: "s", type: "state.redis", secretRefs: { redisPassword: { name: "redis", key: "k" } } })], openSecretStores([], {}))).toThrow(/secretKeyRef needs auth.secretStore/);
  });
});
