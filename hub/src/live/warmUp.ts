import { RTCPeerConnection } from "werift"
import { liveChannelInit } from "./liveViewer.ts"
import { liveRtcConfig } from "./rtcConfig.ts"

/**
 * One werift-to-werift data channel over 127.0.0.1, opened and closed: it runs the DTLS client and server
 * handshakes once, so the first phone does not pay for compiling and precomputing the curve arithmetic.
 * Candidate pairs other than loopback are filtered out, so no packet leaves the machine's loopback.
 */
export async function warmUpWebRtc(timeoutMs = 5000): Promise<void> {
  const config = {
    ...liveRtcConfig({ additionalHostAddresses: ["127.0.0.1"] }),
    iceFilterCandidatePair: (pair: { remoteCandidate: { host: string } }) =>
      pair.remoteCandidate.host === "127.0.0.1",
  }
  const a = new RTCPeerConnection(config)
  const b = new RTCPeerConnection(config)
  try {
    const da = a.createDataChannel("warm-up", liveChannelInit)
    const db = b.createDataChannel("warm-up", liveChannelInit)
    const received = new Promise<void>((resolve) => db.onMessage.subscribe(() => resolve()))
    await a.setLocalDescription(await a.createOffer())
    await gathered(a)
    await b.setRemoteDescription(a.localDescription!)
    await b.setLocalDescription(await b.createAnswer())
    await gathered(b)
    await a.setRemoteDescription(b.localDescription!)
    const opened = new Promise<void>((resolve) => {
      if (da.readyState === "open") resolve()
      da.stateChanged.subscribe((s) => s === "open" && resolve())
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("warm-up connection timed out")), timeoutMs)
    })
    try {
      await Promise.race([opened.then(() => da.send(Buffer.from("warm"))).then(() => received), timeout])
    } finally {
      clearTimeout(timer)
    }
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve()
  return new Promise((resolve) => {
    const sub = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === "complete") {
        sub.unSubscribe()
        resolve()
      }
    })
  })
}
