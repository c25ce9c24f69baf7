import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { makeWorkspace, writeFakeRelease } from "./fakeRelease.ts"

const cli = new URL("../verifyBuild.mjs", import.meta.url).pathname
const verify = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" })

describe("npm run verify-build", () => {
  let ws: ReturnType<typeof makeWorkspace>
  beforeEach(() => {
    ws = makeWorkspace()
  })
  afterEach(() => ws.cleanup())

  it("prints PASSED and exits 0 for identical releases", () => {
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"))

    const r = verify(a, b)

    expect(r.stdout.trim().split("\n").at(-1)).toBe("Reproducibility check PASSED")
    expect(r.status).toBe(0)
  })

  it("prints each mismatch with its reason and exits 1", () => {
    const a = writeFakeRelease(join(ws.base, "a"))
    const b = writeFakeRelease(join(ws.base, "b"), { lockfileSha256: "c".repeat(64) })
    writeFileSync(join(b, "hub.mjs"), "changed\n")

    const r = verify(a, b)

    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/MISMATCH \[inputs\] .*lockfile_sha256 differs/)
    expect(r.stdout).toMatch(/MISMATCH \[content\] hub\.mjs: content differs/)
    expect(r.stdout).not.toContain("PASSED")
  })

  it("exits 2 on wrong usage", () => {
    expect(verify().status).toBe(2)
    expect(verify(join(ws.base, "none"), join(ws.base, "none2")).status).toBe(2)
  })
})
