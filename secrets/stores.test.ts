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
