import { defineConfig } from "vite"
import { VitePWA } from "vite-plugin-pwa"
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { buildDigestFile, buildDigestPlugin, listFiles } from "../scripts/release/digest.mjs"
import pkg from "./package.json" with { type: "json" }

/**
 * The service worker is a classic script (it decrypts pushes with ts-mls, whose suite loading uses dynamic
 * imports; the bundler inlines them but keeps its preload helper, which mentions `import.meta`). A classic
 * worker cannot even parse `import.meta`, so it is replaced; any other use left over fails the build.
 */
const classicWorkerPlugin = {
  name: "vigil:classic-service-worker",
  enforce: "post" as const,
  generateBundle(
    _options: unknown,
    bundle: Record<string, { type: string; code?: string; fileName: string }>,
  ) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== "chunk" || chunk.code === undefined) continue
      chunk.code = chunk.code
        .replaceAll("import.meta.resolve", "undefined")
        .replaceAll("import.meta.url", "self.location.href")
      if (chunk.code.includes("import.meta")) {
        throw new Error(`${chunk.fileName}: import.meta in the service worker, which is a classic script`)
      }
    }
  },
}

/**
 * The signal relay this build talks to when it is served from another origin (a static host, the hub on the
 * LAN): `VIGIL_SIGNAL_URL=https://relay.example npm run build -w web`. Unset, the PWA talks to its own
 * origin only (signal serving the PWA itself, the default).
 */
function configuredSignalOrigin(): string | undefined {
  const value = process.env.VIGIL_SIGNAL_URL
  if (value === undefined || value === "") return undefined
  const url = new URL(value)
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`VIGIL_SIGNAL_URL must be an http(s) URL, got ${value}`)
  }
  return url.origin
}

/**
 * The PWA's Content-Security-Policy as a <meta> tag, for static hosts that send no header: scripts,
 * styles and workers only from this origin (no inline script, no eval), network only to this origin and
 * the configured signal. Signal sends the same policy as a header when it serves the PWA
 * (signal/src/web/staticWeb.ts); `frame-ancestors` works only as a header, so it is not repeated here.
 */
export function pwaContentSecurityPolicy(signalOrigin: string | undefined): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    `connect-src 'self' blob:${signalOrigin ? ` ${signalOrigin}` : ""}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ")
}

const signalOrigin = configuredSignalOrigin()

const cspMetaPlugin = {
  name: "vigil:csp-meta",
  // Right after <meta charset>: a CSP in a <meta> tag covers only what comes after it.
  transformIndexHtml(html: string): string {
    const charset = '<meta charset="utf-8" />'
    if (!html.includes(charset)) throw new Error(`index.html: ${charset} not found`)
    const meta = `<meta http-equiv="Content-Security-Policy" content="${pwaContentSecurityPolicy(signalOrigin)}" />`
    return html.replace(charset, `${charset}\n    ${meta}`)
  },
}

/**
 * The worker is built by vite-plugin-pwa in a second, inline build that does not take the CLI's
 * `--logLevel`: `npm start` (scripts/lib/buildWeb.mjs) asks for a quiet build through the environment.
 */
const quietWorkerBuild = {
  name: "vigil:quiet-worker-build",
  config(config: { build?: { rollupOptions?: { output?: unknown } } }) {
    // vite-plugin-pwa still names the option Rolldown renamed (and warns about): same meaning, new name.
    const output = config.build?.rollupOptions?.output as Record<string, unknown> | undefined
    if (output && "inlineDynamicImports" in output) {
      output.codeSplitting = !output.inlineDynamicImports
      delete output.inlineDynamicImports
    }
    return process.env.VIGIL_QUIET_BUILD ? { logLevel: "error" as const } : {}
  },
}

/**
 * The service worker refuses a version unless the files it installed add up to the published build digest
 * (src/sw.ts), so every file of the build but the worker and build-digest.json must be in its precache
 * list: a file left out (a new extension that `globPatterns` misses) would make every install refused.
 * The build fails instead.
 */
function precacheCoversBuildPlugin() {
  let outDir = ""
  return {
    name: "vigil:precache-covers-build",
    apply: "build" as const,
    configResolved(config: { root: string; build: { outDir: string } }) {
      outDir = resolve(config.root, config.build.outDir)
    },
    closeBundle: {
      order: "post" as const,
      sequential: true,
      handler(error?: Error) {
        if (error) return
        const worker = readFileSync(join(outDir, "sw.js"), "utf8")
        const left = listFiles(outDir).filter(
          (path) => path !== "sw.js" && path !== buildDigestFile && !worker.includes(`"url":"${path}"`),
        )
        if (left.length > 0)
          throw new Error(`not precached by sw.js (add them to globPatterns): ${left.join(", ")}`)
      },
    },
  }
}

// The build is reproducible (docs/06-reproducible-builds.md): file names and bytes depend only on the
// sources and the lockfile, never on the checkout's path, the clock or the order a directory lists in.
export default defineConfig({
  build: {
    target: "es2022",
    sourcemap: false,
  },
  define: {
    // The relay a static-hosted build pairs through by default (features/settings/signalOrigin.ts).
    __VIGIL_SIGNAL_URL__: JSON.stringify(signalOrigin ?? ""),
  },
  plugins: [
    cspMetaPlugin,
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
        buildPlugins: { vite: [classicWorkerPlugin, quietWorkerBuild] },
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
    precacheCoversBuildPlugin(),
  ],
})
