// `npm run release`: builds (scripts/build.mjs) and writes release/<version>/:
//   manifest.json           what was built from which inputs (no hashes: see manifest.mjs)
//   hub.mjs, signal.mjs     the bundles
//   web/                    the PWA, build-digest.json included
//   node_modules/           what the bundles load at run time: signal's native SQLite addon (better-sqlite3)
//   vigil-<version>.tar.gz  all of the above under vigil-<version>/, deterministic
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { bundles, buildArtifacts, webOutDir } from "../build.mjs"
import { lockfileSha256, pinnedNodeVersion, resolveGitCommit } from "./buildInputs.mjs"
import { compareReleases, formatComparison, webDir } from "./compareReleases.mjs"
import { listFiles } from "./digest.mjs"
import { createManifest, manifestFile, serializeManifest } from "./manifest.mjs"
import { createTarball } from "./tarball.mjs"

const root = new URL("../..", import.meta.url).pathname

/** What a host needs to install the release: the installers and the files they start from. */
const deployFiles = [
  "deploy/vigil-relay",
  "deploy/vigil-hub",
  "deploy/lib/install.sh",
  "deploy/coturn/turnserver.conf",
]

/** Packages a bundle loads from `node_modules/` beside it, and which of their files it needs. */
const runtimePackages = [
  { name: "better-sqlite3", files: ["package.json", "LICENSE", "lib", "build/Release/better_sqlite3.node"] },
  { name: "bindings", files: ["package.json", "LICENSE.md", "bindings.js"] },
  { name: "file-uri-to-path", files: ["package.json", "LICENSE", "index.js"] },
]

/** @param {string} path */
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"))

const started = Date.now()
try {
  const pinned = pinnedNodeVersion(root)
  if (process.version !== pinned) {
    console.warn(
      `release: warning: this is Node ${process.version} but .nvmrc pins ${pinned}; the manifest records ` +
        `${process.version}, so this release will not verify against one built with ${pinned}.`,
    )
  }
  const gitCommit = resolveGitCommit(root)
  if (gitCommit.endsWith("-dirty")) {
    console.warn("release: warning: the working tree has uncommitted changes; the manifest says so (-dirty).")
  }
  const { sourceDateEpoch } = await buildArtifacts(root)

  const version = readJson(join(root, "package.json")).version
  const out = join(root, "release", version)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })

  /** @type {{ artifact: string, path: string, package: string, version: string }[]} */
  const artifacts = []
  for (const b of bundles) {
    const pkg = readJson(join(root, b.packageDir, "package.json"))
    const path = `${b.name}.mjs`
    cpSync(join(root, b.outfile), join(out, path))
    artifacts.push({ artifact: b.name, path, package: pkg.name, version: pkg.version })
  }
  // The native addon the signal bundle leaves out, with the two small packages it loads itself through: the
  // files a run needs, nothing of its C sources or build leftovers. Built by `npm ci` on this machine, so a
  // release runs on the same platform and Node ABI it was built on (the manifest records Node's version).
  for (const pkg of runtimePackages) {
    const from = join(root, "node_modules", pkg.name)
    const meta = readJson(join(from, "package.json"))
    for (const file of pkg.files) {
      cpSync(join(from, file), join(out, "node_modules", pkg.name, file), { recursive: true })
    }
    for (const path of listFiles(join(out, "node_modules", pkg.name))) {
      artifacts.push({
        artifact: "runtime",
        path: `node_modules/${pkg.name}/${path}`,
        package: meta.name,
        version: meta.version,
      })
    }
  }
  // The installers and the configuration they start from (docs/10-deployment.md).
  for (const path of deployFiles) {
    cpSync(join(root, path), join(out, path))
    artifacts.push({ artifact: "deploy", path, package: readJson(join(root, "package.json")).name, version })
  }
  const web = readJson(join(root, "web/package.json"))
  cpSync(join(root, webOutDir), join(out, webDir), { recursive: true })
  for (const path of listFiles(join(out, webDir))) {
    artifacts.push({ artifact: "web", path: `${webDir}/${path}`, package: web.name, version: web.version })
  }
  const tarballName = `vigil-${version}.tar.gz`
  const rootPkg = readJson(join(root, "package.json"))
  artifacts.push({ artifact: "tarball", path: tarballName, package: rootPkg.name, version })

  const manifest = createManifest({
    version,
    sourceDateEpoch,
    lockfileSha256: lockfileSha256(root),
    nodeVersion: process.version,
    gitCommit,
    artifacts,
  })
  writeFileSync(join(out, manifestFile), serializeManifest(manifest))

  // The tarball holds the folder as it stands (manifest included), minus itself.
  const files = listFiles(out).map((path) => ({
    path,
    bytes: readFileSync(join(out, path)),
    executable:
      (path.endsWith(".mjs") && !path.includes("/")) ||
      path.endsWith(".node") ||
      /^deploy\/vigil-[a-z]+$/.test(path),
  }))
  writeFileSync(
    join(out, tarballName),
    createTarball({ root: `vigil-${version}`, mtime: sourceDateEpoch, files }),
  )

  // A release compared with itself: proves the manifest is well-formed and prints the digests to publish.
  const self = compareReleases(out, out)
  if (!self.ok)
    throw new Error(`the release does not check against itself:\n${formatComparison(self).join("\n")}`)
  console.log(
    `\nRelease ${version} written to ${relative(process.cwd(), out) || "."}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  console.log(`  commit ${gitCommit}, SOURCE_DATE_EPOCH ${sourceDateEpoch}, Node ${process.version}`)
  console.log(
    `  ${manifest.artifacts.length} artifacts; lockfile sha256 ${manifest.artifacts[0]?.lockfile_sha256}`,
  )
  for (const line of formatComparison(self).filter((l) => l.startsWith("  "))) console.log(line)
  console.log(
    `Compare with another build: npm run verify-build -- ${relative(process.cwd(), out)} <other-release-dir>`,
  )
} catch (err) {
  console.error(`release: ${/** @type {Error} */ (err).message}`)
  process.exit(1)
}
