import type { AeadProvider } from "./aead.ts"
import { fromHex } from "./bytes.ts"
import { clipExporterLabel, clipSecretLength, importClipKey, type ClipKey } from "./clipFraming.ts"
import {
  importFrameKey,
  liveExporterContext,
  liveExporterLabel,
  liveSecretLength,
  type FrameKey,
} from "./frameFraming.ts"
import type { ClipId } from "./ids.ts"
import type { SpaceSession } from "./spaceSession.ts"

/**
 * The key for one clip, exported from the session's current epoch. Hub and phones call this in the same
 * epoch (the hub announces the clip in the epoch it exported from) and get the same key.
 */
export async function exportClipKey(
  session: SpaceSession,
  clipId: ClipId,
  aead?: AeadProvider,
): Promise<{ clipKey: ClipKey; secret: Uint8Array; epoch: bigint }> {
  const { secret, epoch } = await session.exportSecret(clipExporterLabel, fromHex(clipId), clipSecretLength)
  return { clipKey: await importClipKey(clipId, secret, aead), secret, epoch }
}

/** The key for one live stream, exported from the epoch the hub committed when the session started. */
export async function exportFrameKey(
  session: SpaceSession,
  streamId: number,
  aead?: AeadProvider,
): Promise<FrameKey> {
  const { secret, epoch } = await session.exportSecret(
    liveExporterLabel,
    liveExporterContext(streamId),
    liveSecretLength,
  )
  return importFrameKey(streamId, epoch, secret, aead)
}
