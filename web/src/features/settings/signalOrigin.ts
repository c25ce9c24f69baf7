/**
 * Which signal relay this PWA talks to when nothing else says so. An invite names its relay (the phone
 * pairs through that one); without an invite, a build for a static host uses the relay it was built for
 * (`VIGIL_SIGNAL_URL`, web/vite.config.ts), and a PWA served by signal itself uses its own origin. The
 * build's Content-Security-Policy lets the page reach only this origin and that relay.
 */
declare const __VIGIL_SIGNAL_URL__: string

/** The configured relay's origin, or this page's own origin when the build names none. */
export function defaultSignalUrl(): string {
  return __VIGIL_SIGNAL_URL__ === "" ? location.origin : __VIGIL_SIGNAL_URL__
}
