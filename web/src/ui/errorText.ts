/**
 * What a failure means for the person holding the phone, and what they can do about it. Every stable
 * `ErrorCode` has an entry (the type makes a missing one a compile error, a unit test too), relay failures
 * are told apart by the relay's own code where that says more, and anything else (no network, a browser
 * refusal, a bug) gets a plain sentence. Never put `err.message` on screen: it is written for logs.
 */
import { SignalError, VigilError, type ErrorCode } from "@vigil/protocol"

export interface ErrorText {
  /** What happened, one sentence ending in a full stop. */
  what: string
  /** What to do next, one sentence ending in a full stop. */
  next: string
}

const tryAgain = "Try again; if it keeps happening, restart the hub."
const reportIt = "Please report this, with the time it happened; reloading the app may help meanwhile."
const checkHome =
  "Someone may be tampering with the relay. Check the cameras at home, and tell whoever runs your relay."

/** One entry per code; `satisfies` makes a new code without a sentence fail to type-check. */
export const errorTexts = {
  CODEC_INVALID: {
    what: "A message arrived damaged or in a format this app does not know.",
    next: "Update the app and the hub to the same version; if it keeps happening, please report it.",
  },
  CLIP_TAMPERED: {
    what: "This clip was altered in storage: its bytes are not the ones the hub sealed.",
    next: checkHome,
  },
  CLIP_REORDERED: {
    what: "This clip was altered in storage: its pieces were rearranged, repeated or left out.",
    next: checkHome,
  },
  CLIP_WRONG_CLIP: {
    what: "This clip was altered in storage: it holds pieces of another recording.",
    next: checkHome,
  },
  CLIP_NOT_ANNOUNCED: {
    what: "This clip was altered or swapped in storage: it is not the one your hub recorded.",
    next: checkHome,
  },
  CLIP_TRUNCATED: {
    what: "This clip is incomplete at the relay.",
    next: "Try again later; if it stays incomplete, the hub's upload was cut off and the clip is lost.",
  },
  FRAME_TAMPERED: {
    what: "The live video was altered on its way from the hub.",
    next: "Live view stopped to keep you safe. Try again; if it happens again, check your network.",
  },
  FRAME_REPLAYED: {
    what: "Old live video was sent again on its way from the hub.",
    next: "Live view stopped to keep you safe. Try again; if it happens again, check your network.",
  },
  FRAME_WRONG_STREAM: {
    what: "Live video from another session arrived.",
    next: "Start live view again.",
  },
  PUSH_TAMPERED: {
    what: "A notification arrived that this phone cannot read.",
    next: "Open the app: it catches up with the hub and shows what happened.",
  },
  WRONG_SPACE: {
    what: "A message meant for another home arrived.",
    next: `It was ignored. ${checkHome}`,
  },
  EPOCH_MISMATCH: {
    what: "A message arrived sealed under another set of keys than the one it came with.",
    next: "It was ignored. If this phone stops getting clips, pair it again.",
  },
  EPOCH_TOO_OLD: {
    what: "A message arrived that is older than this phone's keys go back.",
    next: "It was ignored. Nothing to do unless clips go missing.",
  },
  COMMIT_MISSED: {
    what: "This phone missed a change of keys and cannot follow the hub any more.",
    next: "Pair this phone again from the hub.",
  },
  EPOCH_AHEAD: {
    what: "A message arrived under keys this phone does not have yet.",
    next: "Keep the app open a moment: it catches up with the hub.",
  },
  REQUEST_STALE: {
    what: "The hub refused a request that took too long or whose clock is off.",
    next: "Check that this phone's date and time are set automatically, then try again.",
  },
  REQUEST_REPLAYED: {
    what: "The hub refused a request it had already seen.",
    next: "Try again; if it keeps happening, check this phone's date and time.",
  },
  SIGNATURE_INVALID: {
    what: "A message's signature does not check out, so it was not accepted.",
    next: checkHome,
  },
  UNTRUSTED_CREDENTIAL: {
    what: "A message came from a device this phone does not trust.",
    next: `It was ignored. ${checkHome}`,
  },
  UNEXPECTED_MESSAGE: {
    what: "The hub and this phone got out of step.",
    next: tryAgain,
  },
  PAIRING_INVALID: {
    what: "This pairing code does not belong to this pairing.",
    next: "Show a new pairing code on the hub and scan that one.",
  },
  PAIRING_EXPIRED: {
    what: "This pairing code has expired.",
    next: "Show a new pairing code on the hub and scan that one.",
  },
  PAIRING_UNANSWERED: {
    what: "The hub did not answer the pairing request.",
    next: "Check that the hub is on and connected, then try again.",
  },
  PAIRING_UNCONFIRMED: {
    what: "The codes were not confirmed in time.",
    next: "Start pairing again and confirm the same code on both devices.",
  },
  NOT_A_MEMBER: {
    what: "This device is not paired with this home (any more).",
    next: "Pair it again from the hub.",
  },
  NOT_AN_OWNER: {
    what: "Only an owner of this home can do that.",
    next: "Ask an owner to do it, or to make this phone an owner on their Devices screen.",
  },
  ALREADY_PAIRED: {
    what: "This phone is already paired.",
    next: "Nothing was changed. To pair it with another hub, remove it from its home first.",
  },
  RELAY_UNREACHABLE: {
    what: "The relay cannot be reached.",
    next: "Check this phone's internet connection; the app tries again by itself.",
  },
  RELAY_ABORTED: {
    what: "The request was cancelled.",
    next: "Try again.",
  },
  RELAY_BAD_RESPONSE: {
    what: "The relay sent an answer this app does not understand.",
    next: "Try again later; if it keeps happening, tell whoever runs your relay.",
  },
  RELAY_UNAUTHORIZED: {
    what: "The relay did not let this phone in.",
    next: "If this phone was removed from its home, pair it again.",
  },
  NOT_FOUND: {
    what: "The relay no longer has this.",
    next: "It was deleted or expired; nothing else to do.",
  },
  MAILBOX_FULL: {
    what: "A mailbox at the relay is full.",
    next: "Open the app on the devices of this home so they catch up, then try again.",
  },
  QUOTA_EXCEEDED: {
    what: "Your home's storage at the relay is full.",
    next: "Delete old clips, or ask whoever runs your relay for more room.",
  },
  RELAY_BUSY: {
    what: "The relay is busy.",
    next: "Wait a minute and try again.",
  },
  RELAY_REFUSED: {
    what: "The relay refused the request.",
    next: "Update the app; if it keeps happening, tell whoever runs your relay.",
  },
  RELAY_UNAVAILABLE: {
    what: "The relay is having trouble.",
    next: "Try again later; if it lasts, tell whoever runs your relay.",
  },
  INTERNAL: {
    what: "Something went wrong inside the app.",
    next: reportIt,
  },
} as const satisfies Record<ErrorCode, ErrorText>

/** The relay's own codes that say more than the code they map to. */
const relayTexts: Readonly<Record<string, ErrorText>> = {
  ROOM_FULL: { what: "Too many devices are pairing at once.", next: "Wait a minute and try again." },
  TOO_LARGE: { what: "The relay refused something too large.", next: "Try a smaller one." },
  ANNOUNCEMENTS_FULL: {
    what: "Too many hubs are waiting to pair at this relay.",
    next: "Wait a minute and try again.",
  },
}

const browserTexts: Readonly<Record<string, ErrorText>> = {
  NotAllowedError: {
    what: "The browser did not allow this.",
    next: "Allow it in the browser's site settings, then try again.",
  },
  NotFoundError: {
    what: "The browser found no device for this (a camera, say).",
    next: "Check that one is connected and not used by another app.",
  },
  NotReadableError: {
    what: "The browser could not use the device (it may be busy).",
    next: "Close other apps that use it, then try again.",
  },
  NotSupportedError: {
    what: "This browser cannot do this.",
    next: "Try an up-to-date Chrome, Edge, Firefox or Safari.",
  },
  AbortError: { what: "The request was cancelled.", next: "Try again." },
  TimeoutError: { what: "This took too long.", next: "Check the connection and try again." },
  QuotaExceededError: {
    what: "This phone's storage for the app is full.",
    next: "Free some space on the phone, then try again.",
  },
}

const networkText: ErrorText = {
  what: "The network cannot be reached.",
  next: "Check this phone's internet connection and try again.",
}

const unknownText: ErrorText = { what: "Something went wrong.", next: reportIt }

/** Explains any thrown value. */
export function explainError(err: unknown): ErrorText {
  if (err instanceof SignalError && Object.hasOwn(relayTexts, err.relayCode))
    return relayTexts[err.relayCode]!
  if (err instanceof VigilError) return errorTexts[err.code]
  if (err instanceof DOMException && Object.hasOwn(browserTexts, err.name)) return browserTexts[err.name]!
  // fetch rejects with a TypeError when there is no answer at all (offline, DNS, CORS, TLS).
  if (err instanceof TypeError && /fetch|network|load failed/i.test(err.message)) return networkText
  return unknownText
}

/** `what` and `next` as one line, for a status or error element. */
export function errorSentence(err: unknown): string {
  const { what, next } = explainError(err)
  return `${what} ${next}`
}
