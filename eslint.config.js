// Lint: typescript-eslint's recommended rules over the TypeScript sources.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "bench/results/**"] },
  ...tseslint.configs.recommended,
  // CommonJS peers in bench/ (http-proxy is a CommonJS package).
  { files: ["**/*.cjs"], rules: { "@typescript-eslint/no-require-imports": "off" } },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
