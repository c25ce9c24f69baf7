// Types for digest.mjs, which web/vite.config.ts and the web tests import.
import type { Plugin } from "vite"

export const buildDigestFile: "build-digest.json"
export function sha256Hex(bytes: Uint8Array | string): string
export function listFiles(dir: string): string[]
export function compareCodeUnits(a: string, b: string): number
export function digestOfFiles(files: Record<string, string>): string
export function computeBuildDigest(dir: string): { digest: string; files: Record<string, string> }
export function writeBuildDigest(dir: string, about: { package: string; version: string }): string
export function buildDigestPlugin(about: { package: string; version: string }): Plugin
