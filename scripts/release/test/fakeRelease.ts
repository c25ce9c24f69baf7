/** Arrange helpers: small release folders on disk, shaped like the ones `npm run release` writes. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { writeBuildDigest } from "../digest.mjs"
import { createManifest, manifestFile, serializeManifest } from "../manifest.mjs"

export const defaultFiles: Record<string, string> = {
  "hub.mjs": "#!/usr/bin/env node\nconsole.log('hub')\n",
  "signal.mjs": "#!/usr/bin/env node\nconsole.log('signal')\n",
  "web/index.html": "<!doctype html><title>Vigil</title>\n",
  "web/assets/index-abc123.js": "console.log('app')\n",
  "web/sw.js": "self.__WB_MANIFEST\n",
}

export interface FakeReleaseOptions {
  files?: Record<string, string>
  lockfileSha256?: string
  nodeVersion?: string
  gitCommit?: string
}

/** A temp dir to hold release folders; `cleanup()` removes it. */
export function makeWorkspace() {
  const base = mkdtempSync(join(tmpdir(), "vigil-release-test-"))
  return { base, cleanup: () => rmSync(base, { recursive: true, force: true }) }
}

/** Writes a release folder at `dir`: the files, web/build-digest.json, and a manifest listing all of them. */
export function writeFakeRelease(dir: string, options: FakeReleaseOptions = {}): string {
  const files = options.files ?? defaultFiles
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  const paths = Object.keys(files)
  if (paths.some((p) => p.startsWith("web/"))) {
    writeBuildDigest(join(dir, "web"), { package: "@vigil/web", version: "0.1.0" })
    paths.push("web/build-digest.json")
  }
  const manifest = createManifest({
    version: "0.1.0",
    sourceDateEpoch: 1_700_000_000,
    lockfileSha256: options.lockfileSha256 ?? "a".repeat(64),
    nodeVersion: options.nodeVersion ?? "v20.20.2",
    gitCommit: options.gitCommit ?? "0123456789abcdef0123456789abcdef01234567",
    artifacts: paths.map((path) => ({
      artifact: path.startsWith("web/") ? "web" : path.replace(/\.mjs$/, ""),
      path,
      package: path.startsWith("web/") ? "@vigil/web" : `@vigil/${path.replace(/\.mjs$/, "")}`,
      version: "0.1.0",
    })),
  })
  writeFileSync(join(dir, manifestFile), serializeManifest(manifest))
  return dir
}
