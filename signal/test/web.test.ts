import { mkdir, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { webContentSecurityPolicy } from "../src/web/staticWeb.ts"
import { expectError, makeTempDir, startTestRelay, type TestRelay } from "./harness.ts"

let relay: TestRelay
let webRoot: string
beforeAll(async () => {
  webRoot = await makeTempDir()
  await mkdir(join(webRoot, "assets"))
  await writeFile(join(webRoot, "index.html"), "<!doctype html><title>Vigil</title>")
  await writeFile(join(webRoot, "sw.js"), "self.addEventListener('fetch', () => {})")
  await writeFile(join(webRoot, "manifest.webmanifest"), "{}")
  await writeFile(join(webRoot, "assets", "index-AbC123xy.js"), "console.log(1)")
  relay = await startTestRelay({ config: { webRoot } })
})
afterAll(async () => {
  await relay.close()
  await rm(webRoot, { recursive: true, force: true })
})

const navigation = { accept: "text/html,application/xhtml+xml" }

describe("static PWA", () => {
  it("serves index.html at / with the CSP and no-cache", async () => {
    const res = await fetch(`${relay.url}/`, { headers: navigation })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain("<title>Vigil</title>")
    expect(res.headers.get("content-security-policy")).toBe(webContentSecurityPolicy)
    expect(res.headers.get("cache-control")).toBe("no-cache")
    expect(res.headers.get("x-frame-options")).toBe("DENY")
  })

  it("revalidates sw.js and the manifest, caches hashed assets long", async () => {
    for (const path of ["/sw.js", "/manifest.webmanifest"]) {
      expect((await fetch(`${relay.url}${path}`)).headers.get("cache-control")).toBe("no-cache")
    }
    const asset = await fetch(`${relay.url}/assets/index-AbC123xy.js`)
    expect(asset.status).toBe(200)
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
  })

  it("falls back to index.html for navigations, but not for /v1 or non-navigations", async () => {
    const deep = await fetch(`${relay.url}/events/123`, { headers: navigation })
    expect(deep.status).toBe(200)
    expect(deep.headers.get("content-security-policy")).toBe(webContentSecurityPolicy)
    expect(await deep.text()).toContain("Vigil")
    await expectError(await fetch(`${relay.url}/v1/unknown`, { headers: navigation }), 404, "NOT_FOUND")
    await expectError(await fetch(`${relay.url}/assets/missing.js`), 404, "NOT_FOUND")
  })
})
