import { defineConfig } from "vite"
import { VitePWA } from "vite-plugin-pwa"
import { buildDigestPlugin } from "../scripts/release/digest.mjs"
import pkg from "./package.json" with { type: "json" }

// The build is reproducible (docs/06-reproducible-builds.md): file names and bytes depend only on the
// sources and the lockfile, never on the checkout's path, the clock or the order a directory lists in.
export default defineConfig({
  build: {
    target: "es2022",
    sourcemap: false,
  },
  plugins: [
    VitePWA({
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      // The app registers the worker itself (src/main.ts): no inline script, so the CSP can forbid them.
      injectRegister: false,
      registerType: "prompt",
      // The icons are precached by globPatterns already; this option would add them again, in the order
      // the public/ directory happens to list.
      includeManifestIcons: false,
      injectManifest: {
        globPatterns: ["**/*.{js,css,html,png,svg,webmanifest}"],
        // Glob results come in directory-listing order, which differs between filesystems; the precache
        // list is part of sw.js, so sort it. Revisions are MD5s of file contents, names carry content hashes.
        manifestTransforms: [
          (entries) => ({
            manifest: [...entries].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0)),
          }),
        ],
      },
      manifest: {
        name: "Vigil — home cameras, end-to-end encrypted",
        short_name: "Vigil",
        description: "Watch your home cameras. Only your paired devices can see the video.",
        start_url: "/",
        scope: "/",
        display: "standalone",
        background_color: "#0f172a",
        theme_color: "#0f172a",
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "/icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
    }),
    // Last: writes build-digest.json over every file above, sw.js included (Settings → About shows it).
    buildDigestPlugin({ package: pkg.name, version: pkg.version }),
  ],
})
