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
export { canonicalJson, canonicalBytes } from './canonical-json.js'
export {
  type FederationErrorCode,
  type ManifestIssue,
  type ChainPosition,
  type GenesisProblem,
  type GuardianSet,
  type ThresholdShortfall,
  FEDERATION_ERROR_CODES,
  CanonicalJsonError,
  ManifestInvalidError,
  ManifestGenesisError,
  ManifestVersionError,
  ManifestPreviousError,
  ManifestThresholdError,
  ManifestExpiredError,
  ManifestRollbackError,
  ManifestForkError,
  ManifestEditError,
  ManifestSigningKeyError,
  InviteCodeInvalidError,
} from './federation-errors.js'
export {
  type JsonValue,
  type JsonObject,
  type Manifest,
  type ManifestGuardian,
  type ManifestCoordinator,
  type ManifestNode,
  type DevFund,
  type ManifestSignature,
  type SignedManifest,
  type ManifestValidation,
  type SignedManifestValidation,
  type ManifestChange,
  type Validity,
  MANIFEST_FORMAT,
  MANIFEST_LIMITS,
  manifestIssues,
  validateManifest,
  isManifest,
  signedManifestIssues,
  validateSignedManifest,
  isSignedManifest,
  nodeUrlProblem,
  diffManifests,
} from './manifest.js'
export {
  type SignManifestOptions,
  manifestHash,
  manifestHashBytes,
  signManifest,
  verifyManifestSignature,
  validSigners,
} from './manifest-signing.js'
export { federationId, isFederationId } from './federation-id.js'
export {
  type InviteCode,
  INVITE_CODE_PREFIX,
  INVITE_CODE_FORMAT,
  INVITE_CODE_MAX_LENGTH,
  encodeInviteCode,
  decodeInviteCode,
} from './invite-code.js'
