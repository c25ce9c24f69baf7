import { defineConfig } from "vitest/config"
import { playwright } from "@vitest/browser-playwright"

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: ["{protocol,hub,signal,web}/{src,test}/**/*.test.ts", "scripts/release/**/*.test.ts"],
          pool: "forks",
        },
      },
      {
        // The protocol runs in phones' browsers too: its whole suite runs again in the system Chromium.
        extends: true,
        test: {
          name: "chromium",
          include: ["protocol/{src,test}/**/*.test.ts"],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: chromium,
                args: [
                  "--no-sandbox",
                  "--disable-gpu",
                  "--disable-background-networking",
                  "--disable-component-update",
                ],
              },
            }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
})
