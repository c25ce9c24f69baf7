import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { loadOrCreateVapidKeys, vapidFileName } from "./vapidKeys.ts"

let dir: string | undefined
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

describe("loadOrCreateVapidKeys", () => {
  it("generates a key pair on first start, keeps it private, and reads the same one back", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-vapid-"))
    const first = await loadOrCreateVapidKeys(dir)
    expect(first.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/)
    expect(first.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await stat(join(dir, vapidFileName))).mode & 0o777).toBe(0o600)
    expect(await loadOrCreateVapidKeys(dir)).toEqual(first)
    expect(JSON.parse(await readFile(join(dir, vapidFileName), "utf8"))).toEqual(first)
  })

  it("refuses a damaged key file instead of silently replacing it", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-vapid-"))
    await writeFile(join(dir, vapidFileName), JSON.stringify({ publicKey: "x", privateKey: "y" }))
    await expect(loadOrCreateVapidKeys(dir)).rejects.toThrow(/not a valid VAPID key file/)
  })
})
