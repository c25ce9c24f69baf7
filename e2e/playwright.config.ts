import { defineConfig } from "@playwright/test"

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  // One at a time: each spec runs its own signal, hub and ffmpeg on a 2-core machine.
  workers: 1,
  fullyParallel: false,
  timeout: 180_000,
  expect: { timeout: 20_000 },
  outputDir: "../test-results/e2e",
  retries: 0,
})
