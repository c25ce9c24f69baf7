// manifest.json of a release: what was built and from which inputs. Like Secluso's, it holds no artifact
// hashes: the checker recomputes them from the files on disk, so a manifest can't vouch for wrong bytes.
import { readFileSync } from "node:fs"
import { join } from "node:path"

export const manifestFile = "manifest.json"
export const manifestFormat = "vigil-release-manifest/1"

/** Inputs every artifact records; two builds of one artifact are comparable only when all of them match. */
export const artifactInputs = /** @type {const} */ ([
  "package",
  "version",
  "lockfile_sha256",
  "node_version",
  "git_commit",
])

/** Inputs of the release as a whole. */
export const releaseInputs = /** @type {const} */ (["format", "version", "source_date_epoch"])

/**
 * @typedef {{ artifact: string, path: string, package: string, version: string, lockfile_sha256: string,
 *   node_version: string, git_commit: string }} ArtifactEntry
 * @typedef {{ format: string, version: string, source_date_epoch: number, artifacts: ArtifactEntry[] }} Manifest
 */

/**
 * @param {{ version: string, sourceDateEpoch: number, lockfileSha256: string, nodeVersion: string,
 *   gitCommit: string, artifacts: { artifact: string, path: string, package: string, version: string }[] }} input
 * @returns {Manifest}
 */
export function createManifest(input) {
  return {
    format: manifestFormat,
    version: input.version,
    source_date_epoch: input.sourceDateEpoch,
    artifacts: [...input.artifacts]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((a) => ({
        artifact: a.artifact,
        path: a.path,
        package: a.package,
        version: a.version,
        lockfile_sha256: input.lockfileSha256,
        node_version: input.nodeVersion,
        git_commit: input.gitCommit,
      })),
  }
}

/** @param {Manifest} manifest */
export function serializeManifest(manifest) {
  return `${JSON.stringify(manifest, null, 2)}\n`
}

/**
 * Reads and checks `dir/manifest.json`. Returns a reason instead of throwing: the checker reports it.
 * @param {string} dir
 * @returns {{ kind: "ok", manifest: Manifest } | { kind: "error", reason: string }}
 */
export function readManifest(dir) {
  let raw
  try {
    raw = JSON.parse(readFileSync(join(dir, manifestFile), "utf8"))
  } catch (err) {
    return { kind: "error", reason: `cannot read ${manifestFile}: ${/** @type {Error} */ (err).message}` }
  }
  if (typeof raw !== "object" || raw === null)
    return { kind: "error", reason: `${manifestFile} is not an object` }
  if (raw.format !== manifestFormat) {
    return {
      kind: "error",
      reason: `${manifestFile}: format is ${JSON.stringify(raw.format)}, expected "${manifestFormat}"`,
    }
  }
  if (typeof raw.version !== "string") return { kind: "error", reason: `${manifestFile}: version is missing` }
  if (!Number.isInteger(raw.source_date_epoch)) {
    return { kind: "error", reason: `${manifestFile}: source_date_epoch is not an integer` }
  }
  if (!Array.isArray(raw.artifacts))
    return { kind: "error", reason: `${manifestFile}: artifacts is not a list` }
  const seen = new Set()
  for (const [i, a] of raw.artifacts.entries()) {
    for (const key of ["artifact", "path", ...artifactInputs]) {
      if (typeof a?.[key] !== "string" || a[key] === "") {
        return { kind: "error", reason: `${manifestFile}: artifacts[${i}].${key} is missing` }
      }
    }
    if (!isSafeRelativePath(a.path)) {
      return {
        kind: "error",
        reason: `${manifestFile}: artifacts[${i}].path is not a plain relative path: ${a.path}`,
      }
    }
    if (seen.has(a.path)) return { kind: "error", reason: `${manifestFile}: ${a.path} is listed twice` }
    seen.add(a.path)
  }
  return { kind: "ok", manifest: raw }
}

/** A manifest comes from whoever published the release: its paths must stay inside the release folder. */
function isSafeRelativePath(/** @type {string} */ path) {
  return path
    .split("/")
    .every(
      (part) => part !== "" && part !== "." && part !== ".." && !part.includes("\\") && !part.includes("\0"),
    )
}
