import { describe, expect, it } from "vitest"
import { KeyedLock } from "./keyedLock.ts"

describe("KeyedLock", () => {
  it("runs work on one key in order and other keys in parallel, and forgets idle keys", async () => {
    const lock = new KeyedLock()
    const log: string[] = []
    let releaseFirst: () => void = () => {}
    const first = lock.run("a", async () => {
      log.push("a1 start")
      await new Promise<void>((r) => (releaseFirst = r))
      log.push("a1 end")
    })
    const second = lock.run("a", async () => log.push("a2"))
    await lock.run("b", async () => log.push("b"))
    expect(lock.isBusy("a")).toBe(true)
    releaseFirst()
    await Promise.all([first, second])
    expect(log).toEqual(["a1 start", "b", "a1 end", "a2"])
    expect(lock.size).toBe(0)
  })

  it("releases the key when the work throws", async () => {
    const lock = new KeyedLock()
    await expect(lock.run("a", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom")
    expect(await lock.run("a", async () => 7)).toBe(7)
    expect(lock.isBusy("a")).toBe(false)
  })
})
