import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "test-results/**", "playwright-report/**", ".vigil-data/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: "readonly", process: "readonly", URL: "readonly", setTimeout: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: [] }],
    },
  },
  {
    // CLI entry points and scripts talk to a person on the terminal.
    files: ["scripts/**", "**/cli.ts", "**/server.ts", "e2e/**"],
    rules: { "no-console": "off" },
  },
)
