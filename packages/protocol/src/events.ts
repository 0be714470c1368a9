// `@hansa/protocol/events`: NIP-01 events and filters, and the error base class — what the
// node's worker threads (the store's writer and readers, the verifier) need — without the
// federation, billing and API modules the main entry also loads, nor viem (address.ts): a
// thread starts sooner when it loads less. Everything here is in the main entry too. EOSE is
// here because a reader thread frames a REQ's whole answer, EOSE included.
export * from './event.js'
export * from './filter.js'
export { eoseMessage } from './relay-message.js'
export { HansaError, type HansaErrorOptions } from './errors.js'
