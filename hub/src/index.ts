export { HubSpace, type ClipToDeliver, type HubSpaceOptions, type PairedPhone } from "./space/hubSpace.ts"
export { parseHubConfig, type HubConfig } from "./config.ts"
export { HubError, errorCodeOf, hubErrorCodes, type HubErrorCode } from "./errors.ts"
