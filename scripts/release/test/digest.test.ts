import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { computeBuildDigest, writeBuildDigest } from "../digest.mjs"
import { makeWorkspace } from "./fakeRelease.ts"

describe("the PWA build digest", () => {
  let ws: ReturnType<typeof makeWorkspace>
  beforeEach(() => {
    ws = makeWorkspace()
  })
  afterEach(() => ws.cleanup())

  it("is what sha256sum gives over the sorted files, build-digest.json left out", () => {
    // Arrange
    const dir = join(ws.base, "web")
    mkdirSync(join(dir, "assets"), { recursive: true })
    writeFileSync(join(dir, "index.html"), "<!doctype html>\n")
    writeFileSync(join(dir, "assets", "Index-B.js"), "b\n")
    writeFileSync(join(dir, "assets", "a.js"), "a\n")
    writeFileSync(join(dir, "sw.js"), "sw\n")

    // Act
    const written = writeBuildDigest(dir, { package: "@vigil/web", version: "0.1.0" })
    const shell = spawnSync(
      "sh",
      [
        "-c",
        "find . -type f ! -name build-digest.json | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum",
      ],
      { cwd: dir, encoding: "utf8" },
    )

    // Assert
    expect(shell.stdout.split(" ")[0]).toBe(written)
    expect(computeBuildDigest(dir).digest).toBe(written)
    const file = JSON.parse(readFileSync(join(dir, "build-digest.json"), "utf8"))
    expect(file.digest).toBe(written)
    expect(Object.keys(file.files)).toEqual(["assets/Index-B.js", "assets/a.js", "index.html", "sw.js"])
  })
})
