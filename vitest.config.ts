import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**"],
    // Every temporary file of a run goes in one directory, removed when the run ends.
    globalSetup: ["test/global-tmp.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e tests spawn sidecars and apps; two cores, so keep files from starving each other.
    maxConcurrency: 1,
    fileParallelism: false,
  },
});
