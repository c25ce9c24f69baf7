import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["{protocol,hub,signal,web}/{src,test}/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
})
