// @hansa/protocol: pure functions and types shared by every Hansa package. No I/O.
export { HansaError, type HansaErrorOptions } from './errors.js'
export {
  type NostrEvent,
  type KindClass,
  eventShapeError,
  eventIdPreimage,
  serializeEvent,
  kindClass,
  tagValue,
  tagValues,
  expirationOf,
  dTagOf,
  isHex64,
} from './event.js'
export {
  type Filter,
  type FilterLimits,
  filterError,
  matchFilter,
  matchFilters,
  tagConditions,
} from './filter.js'
export {
  type ClientMessage,
  type ParseResult,
  MAX_SUB_ID_LENGTH,
  parseClientMessage,
  relayEventMessage,
  okMessage,
  eoseMessage,
  closedMessage,
  noticeMessage,
  authChallengeMessage,
  countMessage,
} from './relay-message.js'
export { AUTH_KIND, AUTH_WINDOW_SECONDS, authEventError, sameRelayUrl } from './auth.js'
export {
  generateSecretKey,
  nostrPublicKey,
  ethereumAddress,
  secretKeyFromHex,
  bytesToHex,
  hexToBytes,
} from './keys.js'
