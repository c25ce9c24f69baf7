// The reproducibility checker: compares two release folders the way Secluso's compare tool does.
//   1. Superset rule: the smaller set of artifacts must be contained in the larger one.
//   2. Inputs: every common artifact was built from the same package version, lockfile, Node and commit.
//   3. Outputs: every common artifact is byte-for-byte identical (hashed here, never taken from a manifest).
// Needs nothing but Node, so a user can run it without installing the project's dependencies.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { buildDigestFile, computeBuildDigest, listFiles, sha256Hex } from "./digest.mjs"
import { artifactInputs, manifestFile, readManifest, releaseInputs } from "./manifest.mjs"

/** Where the PWA sits inside a release folder. */
export const webDir = "web"

/**
 * @typedef {{ kind: "manifest" | "unlisted" | "missing" | "inputs" | "content" | "digest" | "empty",
 *   path?: string, message: string }} Problem
 * @typedef {{ name: string, dir: string, present: string[], absent: string[] }} Side
 * @typedef {{ ok: boolean, problems: Problem[], sides: Side[], common: string[],
 *   hashes: Record<string, string>, webDigest: string | undefined }} Comparison
 */

/**
 * Compares release folders `dirA` and `dirB` (each holding a manifest.json). Never throws for anything
 * wrong with the folders: each difference comes back as a problem with its reason.
 * @param {string} dirA
 * @param {string} dirB
 * @returns {Comparison}
 */
export function compareReleases(dirA, dirB) {
  /** @type {Problem[]} */
  const problems = []
  /** @type {Comparison} */
  const result = { ok: false, problems, sides: [], common: [], hashes: {}, webDigest: undefined }

  const loaded = []
  /** @type {[string, string][]} */
  const named = [
    ["A", dirA],
    ["B", dirB],
  ]
  for (const [name, dir] of named) {
    const read = readManifest(dir)
    if (read.kind === "error") {
      problems.push({ kind: "manifest", message: `${name} (${dir}): ${read.reason}` })
      continue
    }
    let onDisk
    try {
      onDisk = new Set(listFiles(dir).filter((p) => p !== manifestFile))
    } catch (err) {
      problems.push({ kind: "manifest", message: `${name} (${dir}): ${/** @type {Error} */ (err).message}` })
      continue
    }
    const listed = new Map(read.manifest.artifacts.map((a) => [a.path, a]))
    for (const path of onDisk) {
      if (!listed.has(path)) {
        problems.push({
          kind: "unlisted",
          path,
          message: `${path}: in ${name} but not listed in its ${manifestFile}`,
        })
      }
    }
    const present = [...listed.keys()].filter((p) => onDisk.has(p))
    const absent = [...listed.keys()].filter((p) => !onDisk.has(p))
    loaded.push({ side: { name, dir, present, absent }, manifest: read.manifest, listed })
  }
  if (loaded.length < 2) return result
  const [a, b] = /** @type {[(typeof loaded)[0], (typeof loaded)[0]]} */ (loaded)
  result.sides = [a.side, b.side]

  for (const key of releaseInputs) {
    if (a.manifest[key] !== b.manifest[key]) {
      problems.push({
        kind: "inputs",
        message: `release ${key} differs: A ${JSON.stringify(a.manifest[key])}, B ${JSON.stringify(b.manifest[key])}`,
      })
    }
  }

  // Superset rule. With equal counts both sets must be the same, so either may play "smaller".
  const [small, large] = a.side.present.length <= b.side.present.length ? [a, b] : [b, a]
  const largeSet = new Set(large.side.present)
  for (const path of small.side.present) {
    if (!largeSet.has(path)) {
      problems.push({
        kind: "missing",
        path,
        message: `${path}: in ${small.side.name} but missing from ${large.side.name}, the larger set`,
      })
    }
  }
  const common = small.side.present.filter((p) => largeSet.has(p))
  result.common = common
  if (common.length === 0)
    problems.push({ kind: "empty", message: "the two releases have no artifact in common" })

  // Input differences usually concern every artifact at once (another lockfile): one line per difference.
  /** @type {Map<string, string[]>} */
  const inputDiffs = new Map()
  for (const path of common) {
    const ea = /** @type {import("./manifest.mjs").ArtifactEntry} */ (a.listed.get(path))
    const eb = /** @type {import("./manifest.mjs").ArtifactEntry} */ (b.listed.get(path))
    for (const key of ["artifact", ...artifactInputs]) {
      const va = ea[/** @type {keyof typeof ea} */ (key)]
      const vb = eb[/** @type {keyof typeof eb} */ (key)]
      if (va !== vb) {
        const what = `${key} differs: A ${JSON.stringify(va)}, B ${JSON.stringify(vb)}`
        inputDiffs.set(what, [...(inputDiffs.get(what) ?? []), path])
      }
    }
  }
  for (const [what, paths] of inputDiffs) {
    const where = paths.length === 1 ? paths[0] : `${paths.length} artifacts (${paths[0]}, …)`
    problems.push({ kind: "inputs", path: paths[0], message: `inputs of ${where}: ${what}` })
  }

  for (const path of common) {
    const bytesA = readFileSync(join(a.side.dir, path))
    const bytesB = readFileSync(join(b.side.dir, path))
    const hashA = sha256Hex(bytesA)
    const hashB = sha256Hex(bytesB)
    if (hashA === hashB) {
      result.hashes[path] = hashA
      continue
    }
    problems.push({
      kind: "content",
      path,
      message:
        `${path}: content differs (first differing byte at offset ${firstDifference(bytesA, bytesB)}; ` +
        `A ${bytesA.length} bytes sha256 ${hashA}, B ${bytesB.length} bytes sha256 ${hashB})`,
    })
  }

  // The PWA's published digest must describe the files beside it (the app shows it in Settings → About).
  const digestPath = `${webDir}/${buildDigestFile}`
  for (const side of [a.side, b.side]) {
    if (!side.present.includes(digestPath)) continue
    const claimed = readClaimedDigest(join(side.dir, digestPath))
    const actual = computeBuildDigest(join(side.dir, webDir)).digest
    if (claimed !== actual) {
      problems.push({
        kind: "digest",
        path: digestPath,
        message: `${digestPath} in ${side.name} says ${claimed ?? "nothing readable"} but the files beside it hash to ${actual}`,
      })
    } else if (common.includes(digestPath)) {
      result.webDigest = actual
    }
  }

  result.ok = problems.length === 0
  return result
}

/** @param {string} path */
function readClaimedDigest(path) {
  try {
    const digest = JSON.parse(readFileSync(path, "utf8")).digest
    return typeof digest === "string" ? digest : undefined
  } catch {
    return undefined
  }
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function firstDifference(a, b) {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return n
}

/**
 * The checker's report for a person, ending with `Reproducibility check PASSED` or `... FAILED`.
 * @param {Comparison} result
 * @returns {string[]}
 */
export function formatComparison(result) {
  const lines = result.sides.map(
    (s) =>
      `${s.name}: ${s.dir} — ${s.present.length} artifact(s)` +
      (s.absent.length ? `; ${s.absent.length} listed but absent, not compared: ${s.absent.join(", ")}` : ""),
  )
  for (const p of result.problems) lines.push(`MISMATCH [${p.kind}] ${p.message}`)
  if (result.ok) {
    lines.push(`${result.common.length} common artifact(s) byte-for-byte identical.`)
    for (const [path, hash] of Object.entries(result.hashes)) {
      if (!path.startsWith(`${webDir}/`)) lines.push(`  ${path} sha256 ${hash}`)
    }
    if (result.webDigest) lines.push(`  PWA build digest ${result.webDigest}`)
    lines.push("Reproducibility check PASSED")
  } else {
    lines.push(`Reproducibility check FAILED: ${result.problems.length} problem(s)`)
  }
  return lines
}
