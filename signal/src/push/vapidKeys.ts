import { randomBytes } from "node:crypto"
import { readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import webPush from "web-push"
import { z } from "zod"

/** A VAPID key pair (P-256), both base64url as `web-push` uses them. */
export interface VapidKeys {
  publicKey: string
  privateKey: string
}

const vapidFileSchema = z.strictObject({
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{87}$/),
  privateKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
})

/** File name of the key pair inside the data dir. */
export const vapidFileName = "vapid.json"

/**
 * Reads the relay's VAPID keys from `<dataDir>/vapid.json`, generating and saving them (mode 0600,
 * written atomically) on first start. Phones' subscriptions are bound to the public key, so it must
 * survive restarts.
 */
export async function loadOrCreateVapidKeys(dataDir: string): Promise<VapidKeys> {
  const path = join(dataDir, vapidFileName)
  let text: string | undefined
  try {
    text = await readFile(path, "utf8")
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err
  }
  if (text !== undefined) {
    const parsed = vapidFileSchema.safeParse(JSON.parse(text))
    if (!parsed.success) throw new Error(`${path} is not a valid VAPID key file`)
    return parsed.data
  }
  const keys = webPush.generateVAPIDKeys()
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`
  await writeFile(temp, `${JSON.stringify(keys)}\n`, { mode: 0o600, flag: "wx" })
  await rename(temp, path)
  return { publicKey: keys.publicKey, privateKey: keys.privateKey }
}
