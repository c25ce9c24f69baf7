/**
 * Several homes on one phone (issue 16): each home (a hub's space) keeps its own LocalStore — its own
 * IndexedDB database, device, keys, MLS group and events — so homes never share state and removing one
 * leaves the others as they were. The first home lives in the database "vigil" (as before homes existed);
 * every further one gets its own database, listed in the small registry database "vigil-homes", which the
 * service worker reads too (a push is tried against each home in turn).
 */
import { openDB, type DBSchema, type IDBPDatabase } from "idb"
import { randomBytes, toHex } from "@vigil/protocol"

/** The database of the phone's first home. */
export const firstHomeDb = "vigil"

interface HomesDb extends DBSchema {
  homes: { key: string; value: { db: string; addedAt: number } }
}

function openRegistry(): Promise<IDBPDatabase<HomesDb>> {
  return openDB<HomesDb>("vigil-homes", 1, {
    upgrade(db) {
      db.createObjectStore("homes", { keyPath: "db" })
    },
  })
}

/** Every home's database, the first one first, the others in the order they were added. */
export async function listHomeDbs(): Promise<string[]> {
  const registry = await openRegistry()
  try {
    const extra = (await registry.getAll("homes")).sort((a, b) => a.addedAt - b.addedAt).map((h) => h.db)
    return [firstHomeDb, ...extra.filter((db) => db !== firstHomeDb)]
  } finally {
    registry.close()
  }
}

/** A database name for a new home, registered (an empty one stays harmless until a pairing fills it). */
export async function addHomeDb(): Promise<string> {
  const db = `vigil-home-${toHex(randomBytes(8))}`
  const registry = await openRegistry()
  try {
    await registry.put("homes", { db, addedAt: Date.now() })
  } finally {
    registry.close()
  }
  return db
}

/** Forgets a home on this phone: its registry entry and its whole database (the first home's is kept). */
export async function removeHomeDb(db: string): Promise<void> {
  if (db !== firstHomeDb) {
    const registry = await openRegistry()
    try {
      await registry.delete("homes", db)
    } finally {
      registry.close()
    }
  }
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(db)
    request.onsuccess = () => resolve()
    request.onerror = () => reject(request.error ?? new Error("the home's data could not be deleted"))
    // Another tab holds it open: it is deleted when that tab lets go.
    request.onblocked = () => resolve()
  })
}
