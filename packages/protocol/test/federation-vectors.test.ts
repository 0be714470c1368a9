// The federation vectors on disk are what the generator makes from its deterministic keys, and
// the package exports the federation API it documents.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as protocol from '@hansa/protocol'
import { buildVectors } from '../scripts/generate-vectors.mjs'

describe('federation vectors', () => {
  const built = buildVectors() as Record<string, unknown>
  it.each(Object.keys(built))('%s is up to date', (file) => {
    const onDisk = JSON.parse(readFileSync(new URL(`../vectors/${file}`, import.meta.url), 'utf8'))
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(built[file])))
  })
})

describe('federation exports', () => {
  it('exports the federation API', () => {
    const names = [
      'canonicalJson',
      'canonicalBytes',
      'FEDERATION_ERROR_CODES',
      'CanonicalJsonError',
      'ManifestInvalidError',
      'ManifestGenesisError',
      'ManifestVersionError',
      'ManifestPreviousError',
      'ManifestThresholdError',
      'ManifestExpiredError',
      'ManifestRollbackError',
      'ManifestForkError',
      'ManifestEditError',
      'ManifestSigningKeyError',
      'InviteCodeInvalidError',
      'MANIFEST_FORMAT',
      'MANIFEST_LIMITS',
      'manifestIssues',
      'validateManifest',
      'isManifest',
      'signedManifestIssues',
      'validateSignedManifest',
      'isSignedManifest',
      'nodeUrlProblem',
      'diffManifests',
      'manifestHash',
      'manifestHashBytes',
      'signManifest',
      'verifyManifestSignature',
      'validSigners',
      'verifyChain',
      'compareHeads',
      'acceptHead',
      'nextManifestDraft',
      'federationId',
      'isFederationId',
      'INVITE_CODE_PREFIX',
      'INVITE_CODE_FORMAT',
      'INVITE_CODE_MAX_LENGTH',
      'encodeInviteCode',
      'decodeInviteCode',
    ]
    const exported = new Set(Object.keys(protocol))
    expect(names.filter((name) => !exported.has(name))).toEqual([])
  })

  it('pins the error codes', () => {
    expect(protocol.FEDERATION_ERROR_CODES).toEqual([
      'HANSA_CANONICAL_JSON',
      'HANSA_MANIFEST_INVALID',
      'HANSA_MANIFEST_GENESIS',
      'HANSA_MANIFEST_VERSION',
      'HANSA_MANIFEST_PREVIOUS',
      'HANSA_MANIFEST_THRESHOLD',
      'HANSA_MANIFEST_EXPIRED',
      'HANSA_MANIFEST_ROLLBACK',
      'HANSA_MANIFEST_FORK',
      'HANSA_MANIFEST_EDIT',
      'HANSA_MANIFEST_SIGNING_KEY',
      'HANSA_INVITE_INVALID',
    ])
    const error = new protocol.ManifestRollbackError(4, 2)
    expect(error).toBeInstanceOf(protocol.HansaError)
    expect(error.code).toBe('HANSA_MANIFEST_ROLLBACK')
    expect(error.name).toBe('ManifestRollbackError')
  })
})
