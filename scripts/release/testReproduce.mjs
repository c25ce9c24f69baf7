// `npm run verify-build -- --test-reproduce`: the self-test. Clones HEAD twice, into directories whose paths
// differ in length, runs `npm ci` and `npm run release` in each (no output shared between them), compares
// the two releases, then checks that the bundles start.
import { spawn, spawnSync } from "node:child_process"
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { compareReleases, formatComparison } from "./compareReleases.mjs"

/**
 * The environment for npm in a clone: npm passes its own settings to scripts as npm_* variables, and some
 * (npm_config_local_prefix) would point the clone's npm back at this checkout. The npm cache may be shared.
 * @returns {NodeJS.ProcessEnv}
 */
function cleanEnv() {
  /** @type {NodeJS.ProcessEnv} */
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    if ((/^npm_/i.test(key) && key.toLowerCase() !== "npm_config_cache") || key === "INIT_CWD") continue
    env[key] = value
  }
  return env
}

/**
 * Runs `cmd` in `cwd`, appending its output to `logFile`; resolves with the exit code.
 * @param {string} cmd @param {string[]} args @param {string} cwd @param {string} logFile
 * @returns {Promise<number>}
 */
function run(cmd, args, cwd, logFile) {
  const fd = openSync(logFile, "a")
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ["ignore", fd, fd] })
    child.on("error", () => resolve(127))
    child.on("exit", (code) => resolve(code ?? 1))
  }).finally(() => closeSync(fd))
}

/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`

/**
 * @param {{ repoRoot: string, keep?: boolean }} options
 * @returns {Promise<boolean>} whether the two builds are identical and their bundles start
 */
export async function testReproduce({ repoRoot, keep = false }) {
  const started = Date.now()
  const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8" })
  if (head.status !== 0) throw new Error(`not a git checkout: ${repoRoot}`)
  const commit = head.stdout.trim()
  const dirty = spawnSync("git", ["status", "--porcelain"], { cwd: repoRoot, encoding: "utf8" }).stdout.trim()
  console.log(`Reproducibility self-test of commit ${commit}`)
  if (dirty)
    console.log("(uncommitted changes in this checkout are not part of the test: it builds the commit)")

  const base = mkdtempSync(join(tmpdir(), "vigil-repro-"))
  const clones = [join(base, "1"), join(base, "second-build-at-a-longer-path", "vigil")]
  console.log(`Working in ${base}`)

  const builds = clones.map(async (dir, i) => {
    const log = join(base, `build-${i + 1}.log`)
    mkdirSync(dir, { recursive: true })
    /** @type {[string, string, string[]][]} */
    const steps = [
      ["clone", "git", ["clone", "--quiet", "--no-checkout", repoRoot, dir]],
      ["checkout", "git", ["-c", "advice.detachedHead=false", "checkout", "--quiet", commit]],
      ["npm ci", "npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]],
      ["npm run release", "npm", ["run", "release"]],
    ]
    for (const [name, cmd, args] of steps) {
      const t = Date.now()
      const code = await run(cmd, args, dir, log)
      console.log(
        `  build ${i + 1}: ${name} ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${seconds(Date.now() - t)}`,
      )
      if (code !== 0) return { ok: false, log }
    }
    return { ok: true, log }
  })
  const results = await Promise.all(builds)

  let ok = results.every((r) => r.ok)
  for (const r of results) {
    if (!r.ok)
      console.log(
        `--- last lines of ${r.log} ---\n${readFileSync(r.log, "utf8").split("\n").slice(-40).join("\n")}`,
      )
  }

  if (ok) {
    const version = JSON.parse(readFileSync(join(clones[0] ?? "", "package.json"), "utf8")).version
    const [dirA, dirB] = clones.map((c) => join(c, "release", version))
    const comparison = compareReleases(dirA ?? "", dirB ?? "")
    for (const line of formatComparison(comparison)) console.log(line)
    ok = comparison.ok
    if (ok) ok = await smokeTest(dirA ?? "", base)
  }

  if (ok && !keep) rmSync(base, { recursive: true, force: true })
  else console.log(`Kept ${base} for inspection.`)
  console.log(`Self-test ${ok ? "passed" : "FAILED"} in ${seconds(Date.now() - started)}`)
  return ok
}

/**
 * A release that reproduces but doesn't run is no use: `--version` of both bundles, and the relay serving.
 * @param {string} releaseDir @param {string} base
 */
async function smokeTest(releaseDir, base) {
  let ok = true
  for (const bundle of ["hub.mjs", "signal.mjs"]) {
    const r = spawnSync(process.execPath, [join(releaseDir, bundle), "--version"], { encoding: "utf8" })
    const text = `${r.stdout}${r.stderr}`.trim().replace(/\n/g, " | ")
    console.log(`  node ${bundle} --version → ${text}`)
    if (r.status !== 0) ok = false
  }
  const signal = spawn(
    process.execPath,
    [
      join(releaseDir, "signal.mjs"),
      "--port",
      "0",
      "--data-dir",
      join(base, "signal-data"),
      "--web-root",
      join(releaseDir, "web"),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SIGNAL_LOG_LEVEL: "warn" } },
  )
  const listening = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 20_000)
    createInterface({ input: /** @type {import("node:stream").Readable} */ (signal.stdout) }).on(
      "line",
      (line) => {
        if (line.startsWith("signal listening on")) {
          clearTimeout(timer)
          resolve(line)
        }
      },
    )
    signal.on("exit", () => {
      clearTimeout(timer)
      resolve(undefined)
    })
  })
  signal.kill("SIGTERM")
  console.log(`  node signal.mjs --port 0 → ${listening ?? "did not start"}`)
  return ok && listening !== undefined
}
