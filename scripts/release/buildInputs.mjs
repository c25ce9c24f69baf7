// The inputs a release records: commit, commit time (SOURCE_DATE_EPOCH), lockfile hash, Node version.
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { sha256Hex } from "./digest.mjs"

/** @param {string} root @param {string[]} args */
function git(root, args) {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" })
  if (r.status !== 0)
    throw new Error(`git ${args.join(" ")} failed: ${(r.stderr || r.error?.message || "").trim()}`)
  return r.stdout.trim()
}

/**
 * SOURCE_DATE_EPOCH when set (https://reproducible-builds.org/specs/source-date-epoch/), else the commit
 * time of HEAD, so every clone of one commit stamps the same time into its outputs.
 * @param {string} root
 * @param {NodeJS.ProcessEnv} env
 */
export function resolveSourceDateEpoch(root, env = process.env) {
  const fromEnv = env.SOURCE_DATE_EPOCH
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!/^\d+$/.test(fromEnv)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds, got "${fromEnv}"`)
    return Number(fromEnv)
  }
  return Number(git(root, ["log", "-1", "--format=%ct", "HEAD"]))
}

/**
 * The commit being built, with `-dirty` appended when tracked or untracked files differ from it: such a
 * build can't be reproduced from the commit alone, and the checker will say its inputs differ.
 * @param {string} root
 */
export function resolveGitCommit(root) {
  const commit = git(root, ["rev-parse", "HEAD"])
  const dirty = git(root, ["status", "--porcelain"]) !== ""
  return dirty ? `${commit}-dirty` : commit
}

/** @param {string} root */
export function lockfileSha256(root) {
  return sha256Hex(readFileSync(join(root, "package-lock.json")))
}

/** The Node version the project pins in .nvmrc, with a leading "v" like `process.version`. @param {string} root */
export function pinnedNodeVersion(root) {
  return `v${readFileSync(join(root, ".nvmrc"), "utf8").trim().replace(/^v/, "")}`
}
