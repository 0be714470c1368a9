// The federation id: lowercase hex sha256 of the genesis manifest's canonical bytes (DESIGN.md
// "The manifest"). It names the federation for ever, whatever later versions change, and is
// what an invite code carries and what verifyChain checks the genesis against.
import { ManifestGenesisError, ManifestInvalidError } from './federation-errors.js'
import { isLowerHex } from './hex.js'
import type { Manifest } from './manifest-types.js'
import { manifestIssues } from './manifest-validation.js'
import { manifestHash } from './manifest-signing.js'

/** 64 lowercase hex characters (the form of a federation id; it says nothing of which one). */
export function isFederationId(value: unknown): value is string {
  return isLowerHex(value, 32)
}

/**
 * The id of the federation whose genesis manifest this is. Throws ManifestInvalidError for a
 * malformed manifest and ManifestGenesisError for a manifest that is not a genesis (version 1).
 */
export function federationId(genesis: Manifest): string {
  const issues = manifestIssues(genesis)
  if (issues.length > 0) throw new ManifestInvalidError(issues)
  if (genesis.version !== 1 || genesis.previous !== null) {
    throw new ManifestGenesisError(
      'version',
      `A federation id is the hash of a genesis manifest (version 1); this is version ${genesis.version}`,
    )
  }
  return manifestHash(genesis)
}
