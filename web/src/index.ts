/** The phone's core, for other clients and for tests that play a phone in Node. */
export { PhoneSpace, type SpaceStatus } from "./space/phoneSpace.ts"
export { LocalStore, type EventRecord } from "./store/db.ts"
