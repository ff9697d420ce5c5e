import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e tests spawn sidecars and apps; two cores, so keep files from starving each other.
    maxConcurrency: 1,
    fileParallelism: false,
  },
});
