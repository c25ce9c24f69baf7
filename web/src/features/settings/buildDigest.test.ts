import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { digestOfFiles as nodeDigestOfFiles, writeBuildDigest } from "../../../../scripts/release/digest.mjs"
import { checkBuildDigest, digestOfFiles, groupDigest, parsePublishedDigest } from "./buildDigest.ts"

/** A fetch over a folder, like the app fetching its own files from signal. */
function folderFetch(dir: string) {
  return async (path: string) => {
    try {
      return new Response(readFileSync(join(dir, path)))
    } catch {
      return new Response("not found", { status: 404 })
    }
  }
}

describe("the build digest in Settings → About", () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vigil-web-digest-"))
    mkdirSync(join(dir, "assets"))
    writeFileSync(join(dir, "index.html"), "<!doctype html>\n")
    writeFileSync(join(dir, "assets", "index-abc.js"), "console.log(1)\n")
    writeFileSync(join(dir, "sw.js"), "self.__WB_MANIFEST\n")
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it("computes the same digest as the build does", async () => {
    const files = { "sw.js": "1".repeat(64), "assets/a.js": "2".repeat(64), "Index.html": "3".repeat(64) }

    expect(await digestOfFiles(files)).toBe(nodeDigestOfFiles(files))
  })

  it("verifies the files it loads against build-digest.json", async () => {
    const written = writeBuildDigest(dir, { package: "@vigil/web", version: "0.1.0" })

    const result = await checkBuildDigest(folderFetch(dir))

    expect(result).toEqual({ kind: "verified", version: "0.1.0", digest: written, fileCount: 3 })
  })

  it("names the file that differs from build-digest.json", async () => {
    const written = writeBuildDigest(dir, { package: "@vigil/web", version: "0.1.0" })
    writeFileSync(join(dir, "assets", "index-abc.js"), "console.log(2)\n")

    const result = await checkBuildDigest(folderFetch(dir))

    expect(result).toMatchObject({ kind: "mismatch", published: written, differing: ["assets/index-abc.js"] })
    expect(result.kind === "mismatch" && result.digest).not.toBe(written)
  })

  it("says so when there is no digest, or it is malformed", async () => {
    expect(await checkBuildDigest(folderFetch(dir))).toMatchObject({ kind: "unavailable" })
    writeFileSync(join(dir, "build-digest.json"), "[1,2]")
    expect(await checkBuildDigest(folderFetch(dir))).toMatchObject({ kind: "unavailable" })
    expect(await checkBuildDigest(() => Promise.reject(new TypeError("offline")))).toMatchObject({
      kind: "unavailable",
    })
  })

  it("refuses a build-digest.json naming paths outside the app", () => {
    const digest = "a".repeat(64)
    expect(parsePublishedDigest({ version: "1", digest, files: { "../secret": digest } })).toBeUndefined()
    expect(parsePublishedDigest({ version: "1", digest, files: { "sw.js": digest } })).toBeDefined()
  })

  it("shows the digest in groups of eight", () => {
    expect(groupDigest("0123456789abcdef".repeat(4))).toBe(
      "01234567 89abcdef 01234567 89abcdef 01234567 89abcdef 01234567 89abcdef",
    )
  })
})
