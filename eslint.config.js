import js from "@eslint/js"
import globals from "globals"
import tseslint from "typescript-eslint"

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/dist/**",
      "test-results/**",
      "playwright-report/**",
      "bench-results/**",
      "release/**",
      ".vigil-data/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Library code logs through one structured logger, never the console.
      "no-console": "error",
    },
  },
  {
    // Entry points and scripts talk to a person on the terminal.
    files: ["scripts/**", "**/cli.ts", "**/server.ts", "e2e/**"],
    rules: { "no-console": "off" },
  },
)
