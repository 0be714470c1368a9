// @hansa/protocol: pure functions and types shared by every Hansa package. No I/O.
export { HansaError, type HansaErrorOptions } from './errors.js'
