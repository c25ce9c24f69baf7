import { builtinModules } from "node:module"
import js from "@eslint/js"
import globals from "globals"
import tseslint from "typescript-eslint"

/** Node's built-in modules without the `node:` prefix (fs, path, crypto, …); subpaths like fs/promises too. */
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith("_") && !name.includes("/"))
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * protocol/ runs in Node and in the browser (docs: STYLE.md "Layout"), so it may import itself, ts-mls and
 * zod, and nothing else: no node:*, no Node built-ins, no other package. `allowed` adds packages.
 */
function protocolImports(allowed) {
  const packages = ["ts-mls", "zod", ...allowed].map(escape).join("|")
  const builtins = nodeBuiltins.map(escape).join("|")
  return [
    "error",
    {
      patterns: [
        {
          regex: `^(?:node:.*|(?:${builtins})(?:/.*)?)$`,
          message: "protocol runs in the browser too: no Node built-in modules.",
        },
        {
          regex: `^(?!\\.{1,2}/|node:|(?:${builtins})(?:/|$)|(?:${packages})(?:/|$))`,
          message: "protocol imports only itself, ts-mls and zod.",
        },
      ],
    },
  ]
}

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
  {
    // The pure core: no Node, no DOM storage, no page globals (a service worker and Node have none).
    files: ["protocol/src/**"],
    rules: {
      "no-restricted-imports": protocolImports([]),
      "no-restricted-globals": [
        "error",
        ...["indexedDB", "localStorage", "sessionStorage", "document", "window"].map((name) => ({
          name,
          message: "protocol is pure: storage and the page belong to the adapters in hub/ and web/.",
        })),
      ],
    },
  },
  {
    // Unit tests beside the code run in Chromium too: still no Node, and vitest is their runner.
    files: ["protocol/src/**/*.test.ts"],
    rules: { "no-restricted-imports": protocolImports(["vitest"]) },
  },
)
