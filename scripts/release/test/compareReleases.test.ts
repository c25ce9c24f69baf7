import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { compareReleases, formatComparison } from "../compareReleases.mjs"
import { defaultFiles, makeWorkspace, writeFakeRelease } from "./fakeRelease.ts"

describe("compareReleases", () => {
  let ws: ReturnType<typeof makeWorkspace>
  beforeEach(() => {
    ws = makeWorkspace()
  })
  afterEach(() => ws.cleanup())

  const kinds = (r: ReturnType<typeof compareReleases>) => r.problems.map((p) => p.kind)

  it("passes two identical releases and prints the digests", () => {
    // Arrange
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"))

    // Act
    const result = compareReleases(a, b)

    // Assert
    expect(result.problems).toEqual([])
    expect(result.ok).toBe(true)
    expect(result.common).toHaveLength(Object.keys(defaultFiles).length + 1)
    const report = formatComparison(result)
    expect(report.at(-1)).toBe("Reproducibility check PASSED")
    expect(report.join("\n")).toMatch(/hub\.mjs sha256 [0-9a-f]{64}/)
    expect(report.join("\n")).toMatch(/PWA build digest [0-9a-f]{64}/)
  })

  it("fails when one byte of one artifact changed", () => {
    // Arrange
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"))
    const target = join(b, "signal.mjs")
    const bytes = readFileSync(target)
    bytes[5] = (bytes[5] ?? 0) ^ 0x01
    writeFileSync(target, bytes)

    // Act
    const result = compareReleases(a, b)

    // Assert
    expect(result.ok).toBe(false)
    expect(kinds(result)).toEqual(["content"])
    expect(result.problems[0]?.path).toBe("signal.mjs")
    expect(result.problems[0]?.message).toContain("first differing byte at offset 5")
    expect(formatComparison(result).at(-1)).toMatch(/^Reproducibility check FAILED/)
  })

  it("fails when a PWA file changed, and names the stale build digest", () => {
    // Arrange
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"))
    writeFileSync(join(b, "web/assets/index-abc123.js"), "console.log('evil')\n")

    // Act
    const result = compareReleases(a, b)

    // Assert
    expect(kinds(result).sort()).toEqual(["content", "digest"])
    expect(result.problems.find((p) => p.kind === "content")?.path).toBe("web/assets/index-abc123.js")
  })

  it("fails when an artifact of the smaller set is missing from the larger set", () => {
    // Arrange: A has hub.mjs; B has no hub.mjs but one extra file, so B is larger and lacks something of A.
    const a = writeFakeRelease(join(ws.base, "a"))
    const { "hub.mjs": _hub, ...rest } = defaultFiles
    const b = writeFakeRelease(join(ws.base, "b"), {
      files: { ...rest, "extra.mjs": "x\n", "web/icons/icon.png": "png\n" },
    })

    // Act
    const result = compareReleases(a, b)

    // Assert
    expect(result.ok).toBe(false)
    expect(result.problems.filter((p) => p.kind === "missing").map((p) => p.path)).toEqual(["hub.mjs"])
  })

  it("passes when the smaller set is contained in the larger one (superset rule)", () => {
    // Arrange: B built the hub only.
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"), { files: { "hub.mjs": defaultFiles["hub.mjs"] ?? "" } })

    // Act
    const result = compareReleases(a, b)

    // Assert
    expect(result.problems).toEqual([])
    expect(result.common).toEqual(["hub.mjs"])
  })

  it("fails when the lockfile hash differs, even though the bytes match", () => {
    // Arrange
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"), { lockfileSha256: "b".repeat(64) })

    // Act
    const result = compareReleases(a, b)

    // Assert
    expect(kinds(result)).toEqual(["inputs"])
    expect(result.problems[0]?.message).toContain("lockfile_sha256 differs")
    expect(result.problems[0]?.message).toContain(`${result.common.length} artifacts`)
  })

  it("fails when the Node version or the commit differs", () => {
    // Arrange
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"), { nodeVersion: "v22.0.0", gitCommit: "f".repeat(40) })

    // Act
    const messages = compareReleases(a, b).problems.map((p) => p.message)

    // Assert
    expect(messages.some((m) => m.includes("node_version differs"))).toBe(true)
    expect(messages.some((m) => m.includes("git_commit differs"))).toBe(true)
  })

  it("fails when a folder holds a file its manifest does not list", () => {
    // Arrange
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"))
    writeFileSync(join(b, "web/injected.js"), "alert(1)\n")

    // Act
    const result = compareReleases(a, b)

    // Assert
    expect(kinds(result)).toContain("unlisted")
  })

  it("does not compare a listed artifact that is absent, and says so", () => {
    // Arrange: an unpacked tarball lacks the tarball itself.
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"))
    rmSync(join(b, "hub.mjs"))

    // Act
    const result = compareReleases(a, b)

    // Assert
    expect(result.ok).toBe(true)
    expect(formatComparison(result)[1]).toContain("listed but absent, not compared: hub.mjs")
  })

  it("fails on a missing or malformed manifest, and on paths leaving the folder", () => {
    // Arrange
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"))
    const manifest = JSON.parse(readFileSync(join(b, "manifest.json"), "utf8"))
    manifest.artifacts[0].path = "../a/hub.mjs"
    writeFileSync(join(b, "manifest.json"), JSON.stringify(manifest))

    // Act
    const escaping = compareReleases(a, b)
    const missing = compareReleases(a, join(ws.base, "nowhere"))

    // Assert
    expect(kinds(escaping)).toEqual(["manifest"])
    expect(escaping.problems[0]?.message).toContain("not a plain relative path")
    expect(kinds(missing)).toEqual(["manifest"])
  })
})
