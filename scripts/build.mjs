// `npm run build`: the release artifacts, reproducibly (docs/06-reproducible-builds.md).
//   web/dist/         the PWA (Vite), with build-digest.json over its other files
//   dist/hub.mjs      the hub as one ESM file for Node 20 (esbuild)
//   dist/signal.mjs   the relay, likewise
//   dist/hub-detector.mjs  the hub's object-detection child process (forked by hub.mjs from beside it)
// The bundles leave out better-sqlite3 (a native addon: install it beside the bundle) and ffmpeg-static
// (the hub falls back to ffmpeg on PATH). Same commit + same lockfile + same Node ⇒ same bytes.
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { build } from "esbuild"
import { resolveSourceDateEpoch } from "./release/buildInputs.mjs"
import { buildDigestFile, sha256Hex } from "./release/digest.mjs"

const root = new URL("..", import.meta.url).pathname

/** What `npm run build` produces, relative to the repository root. */
export const bundles = [
  { name: "hub", entry: "hub/src/cli.ts", outfile: "dist/hub.mjs", packageDir: "hub" },
  { name: "signal", entry: "signal/src/server.ts", outfile: "dist/signal.mjs", packageDir: "signal" },
  // The model's weights ship as files inside @vladmandic/human, and tfjs loads its WASM from its own
  // package: both stay installed beside the bundle rather than inside it.
  {
    name: "hub-detector",
    entry: "hub/src/detect/detectorChild.ts",
    outfile: "dist/hub-detector.mjs",
    packageDir: "hub",
    external: [
      "@vladmandic/human",
      "@tensorflow/tfjs-core",
      "@tensorflow/tfjs-converter",
      "@tensorflow/tfjs-backend-wasm",
    ],
  },
]
export const webOutDir = "web/dist"

/**
 * Builds the PWA and both bundles into the repository at `repoRoot`.
 * @param {string} repoRoot
 */
export async function buildArtifacts(repoRoot) {
  const sourceDateEpoch = resolveSourceDateEpoch(repoRoot)
  // Nothing here reads the clock or the locale on purpose; pin them so nothing can by accident either.
  const env = { ...process.env, SOURCE_DATE_EPOCH: String(sourceDateEpoch), TZ: "UTC", LC_ALL: "C" }

  rmSync(join(repoRoot, webOutDir), { recursive: true, force: true })
  const vite = spawnSync("npx", ["vite", "build", "--logLevel", "warn"], {
    cwd: join(repoRoot, "web"),
    stdio: "inherit",
    env,
  })
  if (vite.status !== 0) throw new Error("the PWA build (vite) failed; see above")

  rmSync(join(repoRoot, "dist"), { recursive: true, force: true })
  mkdirSync(join(repoRoot, "dist"), { recursive: true })
  for (const b of bundles) {
    const outfile = join(repoRoot, b.outfile)
    await build({
      absWorkingDir: repoRoot,
      entryPoints: [b.entry],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      legalComments: "none",
      sourcemap: false,
      logLevel: "warning",
      // Native addon, and a package whose only content is a downloaded binary: resolved at run time.
      // bufferutil / utf-8-validate are optional native speed-ups some packages try to load.
      external: ["better-sqlite3", "ffmpeg-static", "bufferutil", "utf-8-validate", ...(b.external ?? [])],
      // CommonJS dependencies call require(); an ESM file has none unless we make one.
      banner: {
        js: 'import { createRequire as __vigilCreateRequire } from "node:module";\nconst require = __vigilCreateRequire(import.meta.url);',
      },
    })
    // esbuild keeps the entry's #! line, which for the sources may name tsx; the bundle needs plain node.
    const text = readFileSync(outfile, "utf8")
    const body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1) : text
    writeFileSync(outfile, `#!/usr/bin/env node\n${body}`)
  }
  return { sourceDateEpoch }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const started = Date.now()
  try {
    const { sourceDateEpoch } = await buildArtifacts(root)
    const digest = JSON.parse(readFileSync(join(root, webOutDir, buildDigestFile), "utf8")).digest
    console.log(
      `Built (SOURCE_DATE_EPOCH=${sourceDateEpoch}) in ${((Date.now() - started) / 1000).toFixed(1)} s:`,
    )
    console.log(`  ${webOutDir}/  PWA build digest ${digest}`)
    for (const b of bundles)
      console.log(`  ${b.outfile}  sha256 ${sha256Hex(readFileSync(join(root, b.outfile)))}`)
  } catch (err) {
    console.error(`build: ${/** @type {Error} */ (err).message}`)
    process.exit(1)
  }
}
