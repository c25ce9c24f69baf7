import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createTarball } from "../tarball.mjs"
import { makeWorkspace } from "./fakeRelease.ts"

const files = [
  { path: "web/index.html", bytes: new TextEncoder().encode("<!doctype html>\n") },
  { path: "hub.mjs", bytes: new TextEncoder().encode("#!/usr/bin/env node\n"), executable: true },
  // Longer than ustar's 100-byte name field: goes through the prefix field.
  { path: `web/${"deep-directory/".repeat(6)}file.js`, bytes: new Uint8Array(1000).fill(7) },
]

describe("createTarball", () => {
  let ws: ReturnType<typeof makeWorkspace>
  beforeEach(() => {
    ws = makeWorkspace()
  })
  afterEach(() => ws.cleanup())

  it("gives the same bytes whatever the order of its input", () => {
    const one = createTarball({ root: "vigil-0.1.0", mtime: 1_700_000_000, files })
    const two = createTarball({ root: "vigil-0.1.0", mtime: 1_700_000_000, files: [...files].reverse() })

    expect(Buffer.compare(one, two)).toBe(0)
    // gzip header: no name flag, MTIME 0, OS Unix.
    expect([...one.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3])
    expect(gunzipSync(one).length % 10240).toBe(0)
  })

  it("unpacks with system tar to the same files, with the fixed mtime, owner and modes", () => {
    const out = join(ws.base, "out")
    mkdirSync(out)
    const tgz = join(ws.base, "r.tar.gz")
    spawnSync("sh", ["-c", 'cat > "$1"', "sh", tgz], {
      input: createTarball({ root: "vigil-0.1.0", mtime: 1_700_000_000, files }),
    })

    const list = spawnSync("tar", ["--numeric-owner", "-tvzf", tgz], { encoding: "utf8" })
    const untar = spawnSync("tar", ["-xzf", tgz, "-C", out], { encoding: "utf8" })

    expect(untar.status, untar.stderr).toBe(0)
    expect(list.stdout.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(/^drwxr-xr-x 0\/0 +0 2023-11-14 \d\d:\d\d vigil-0.1.0\/$/),
      expect.stringMatching(/^-rwxr-xr-x 0\/0 +20 .* vigil-0.1.0\/hub.mjs$/),
      expect.stringMatching(/ vigil-0.1.0\/web\/$/),
      ...Array.from({ length: 6 }, () => expect.stringMatching(/ vigil-0.1.0\/web\/(deep-directory\/)+$/)),
      expect.stringMatching(/^-rw-r--r-- 0\/0 +1000 .* vigil-0.1.0\/web\/(deep-directory\/){6}file\.js$/),
      expect.stringMatching(/ vigil-0.1.0\/web\/index.html$/),
    ])
    for (const f of files) {
      const path = join(out, "vigil-0.1.0", f.path)
      expect(new Uint8Array(readFileSync(path))).toEqual(f.bytes)
      expect(statSync(path).mtimeMs).toBe(1_700_000_000_000)
    }
  })
})
