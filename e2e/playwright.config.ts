import { defineConfig } from "@playwright/test"

// The specs read the hub's pairing link from its stdout, which is a pipe here: a hub prints the link (a
// one-time secret) off a terminal only when asked to (issue 14 finding 16). Every hub the specs spawn
// inherits this.
process.env.VIGIL_PAIRING_LINK_ON_STDOUT = "1"

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
