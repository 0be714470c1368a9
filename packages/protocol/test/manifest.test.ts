// Manifests: structural validation with a path and a reason for every problem, signing and
// hashing, the federation id, the diff guardians review and the draft of the next version.
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import {
  type Manifest,
  ManifestEditError,
  ManifestGenesisError,
  ManifestInvalidError,
  ManifestSigningKeyError,
  canonicalJson,
  diffManifests,
  federationId,
  isManifest,
  manifestHash,
  manifestHashBytes,
  manifestIssues,
  nextManifestDraft,
  signManifest,
  signedManifestIssues,
  validSigners,
  validateManifest,
  verifyManifestSignature,
} from '@hansa/protocol'
import {
  AUX,
  DAY,
  T0,
  genesisManifest,
  guardianEntry,
  signedBy,
  testKey,
} from './federation-fixtures.js'

function withChange(change: (m: Record<string, unknown>) => void): unknown {
  const manifest = structuredClone(genesisManifest()) as unknown as Record<string, unknown>
  change(manifest)
  return manifest
}

const coordinator = (m: Record<string, unknown>) =>
  (m.coordinators as Record<string, unknown>[])[0] as Record<string, unknown>
const node = (m: Record<string, unknown>) =>
  (coordinator(m).nodes as Record<string, unknown>[])[0] as Record<string, unknown>

describe('validateManifest', () => {
  it('accepts the fixture and returns it unchanged', () => {
    const manifest = genesisManifest()
    const result = validateManifest(manifest)
    expect(result).toEqual({ ok: true, manifest })
    expect(isManifest(manifest)).toBe(true)
  })

  const cases: [string, (m: Record<string, unknown>) => void, string, string][] = [
    [
      'format',
      (m) => {
        m.hansa = 2
      },
      'hansa',
      'must be 1, the manifest format this software reads (got 2)',
    ],
    [
      'missing field',
      (m) => {
        delete m.devFund
      },
      'devFund',
      'is required',
    ],
    [
      'unknown field',
      (m) => {
        m.treshold = 2
      },
      'treshold',
      'is not a field of this format',
    ],
    [
      'empty name',
      (m) => {
        m.name = ''
      },
      'name',
      'must be 1 to 100 characters long (got 0)',
    ],
    [
      'name with a line break',
      (m) => {
        m.name = 'a\nb'
      },
      'name',
      'must not contain control characters',
    ],
    [
      'version 0',
      (m) => {
        m.version = 0
      },
      'version',
      'must be an integer ≥ 1 (got 0)',
    ],
    [
      'version 1.5',
      (m) => {
        m.version = 1.5
      },
      'version',
      'must be an integer ≥ 1 (got 1.5)',
    ],
    [
      'genesis with previous',
      (m) => {
        m.previous = 'ab'.repeat(32)
      },
      'previous',
      `must be null in the genesis manifest (version 1) (got "${'ab'.repeat(20)}…")`,
    ],
    [
      'version 2 without previous',
      (m) => {
        m.version = 2
      },
      'previous',
      'must be the sha256 of version 1, 64 lowercase hex characters (got null)',
    ],
    [
      'expiry before issue',
      (m) => {
        m.expiresAt = T0
      },
      'expiresAt',
      `must be later than issuedAt (${T0}) (got ${T0})`,
    ],
    [
      'no guardians',
      (m) => {
        m.guardians = []
      },
      'guardians',
      'must have 1 to 100 entries (got 0)',
    ],
    [
      'uppercase guardian key',
      (m) => {
        ;(m.guardians as { pubkey: string }[])[0]!.pubkey = testKey('ana').pubkey.toUpperCase()
      },
      'guardians[0].pubkey',
      `must be 64 lowercase hex characters (got "${testKey('ana').pubkey.toUpperCase().slice(0, 40)}…")`,
    ],
    [
      'guardian key off the curve',
      (m) => {
        ;(m.guardians as { pubkey: string }[])[0]!.pubkey = 'ff'.repeat(32)
      },
      'guardians[0].pubkey',
      'is not a valid secp256k1 x-only public key (BIP-340)',
    ],
    [
      'duplicate guardian',
      (m) => {
        m.guardians = [guardianEntry('ana'), guardianEntry('bo'), guardianEntry('ana')]
      },
      'guardians[2].pubkey',
      'repeats guardians[0].pubkey; each guardian key may appear once',
    ],
    [
      'threshold 0',
      (m) => {
        m.threshold = 0
      },
      'threshold',
      'must be an integer ≥ 1 (got 0)',
    ],
    [
      'threshold above n',
      (m) => {
        m.threshold = 4
      },
      'threshold',
      'must be from 1 to 3, the number of guardians (got 4)',
    ],
    [
      'http URL',
      (m) => {
        node(m).urls = ['https://relay.example']
      },
      'coordinators[0].nodes[0].urls[0]',
      'must be a ws:// or wss:// URL (got "https://relay.example")',
    ],
    [
      'URL with credentials',
      (m) => {
        node(m).urls = ['wss://user:pw@relay.example']
      },
      'coordinators[0].nodes[0].urls[0]',
      'must not carry a user name or password',
    ],
    [
      'unknown service on a node',
      (m) => {
        node(m).services = ['inbox', 'mixer']
      },
      'coordinators[0].nodes[0].services[1]',
      '"mixer" is not a service the federation runs (not a key of services)',
    ],
    [
      'duplicate node key',
      (m) => {
        coordinator(m).nodes = [node(m), { ...node(m), urls: ['wss://other.example'] }]
      },
      'coordinators[0].nodes[1].pubkey',
      'repeats coordinators[0].nodes[0].pubkey; a node key may appear once in the manifest',
    ],
    [
      'URL shared by two nodes',
      (m) => {
        coordinator(m).nodes = [node(m), { ...node(m), pubkey: testKey('node-2').pubkey }]
      },
      'coordinators[0].nodes[1].urls[0]',
      'repeats coordinators[0].nodes[0].urls[0]; a URL reaches one node',
    ],
    [
      'duplicate coordinator',
      (m) => {
        m.coordinators = [coordinator(m), { ...coordinator(m), nodes: [] }]
      },
      'coordinators[1].pubkey',
      'repeats coordinators[0].pubkey; each coordinator key may appear once',
    ],
    [
      'badge listed twice',
      (m) => {
        coordinator(m).badges = ['donatesToDevFund', 'donatesToDevFund']
      },
      'coordinators[0].badges[1]',
      'lists "donatesToDevFund" twice',
    ],
    [
      'contact value not a string',
      (m) => {
        coordinator(m).contact = { email: 5 }
      },
      'coordinators[0].contact.email',
      'must be a string (got 5)',
    ],
    [
      'service name',
      (m) => {
        m.services = { Inbox: {}, inbox: {}, orderbook: {} }
      },
      'services.Inbox',
      'a service name is a lowercase letter then lowercase letters, digits or "-", at most 32 characters',
    ],
    [
      'service parameters not canonical',
      (m) => {
        m.services = { inbox: {}, orderbook: { rate: Number.NaN } }
      },
      'services.orderbook.rate',
      'is NaN; only finite numbers are allowed',
    ],
    [
      'dev fund rate',
      (m) => {
        ;(m.devFund as Record<string, unknown>).suggestedRate = 1.5
      },
      'devFund.suggestedRate',
      'must be a number from 0 to 1 (got 1.5)',
    ],
    [
      'dev fund address with a bad checksum',
      (m) => {
        ;(m.devFund as Record<string, unknown>).recipient =
          '0x52908400098527886E0F7030069857D2E4169ee7'
      },
      'devFund.recipient',
      'must be an x-only public key (64 lowercase hex) or an Ethereum address (0x and 40 hex digits, EIP-55 checksum if mixed case) (got "0x52908400098527886E0F7030069857D2E4169e…")',
    ],
  ]
  it.each(cases)('refuses: %s', (_name, change, path, message) => {
    const result = validateManifest(withChange(change))
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error).toBeInstanceOf(ManifestInvalidError)
    expect(result.error.code).toBe('HANSA_MANIFEST_INVALID')
    expect(result.error.issues).toContainEqual({ path, message })
    expect(result.error.shortMessage).toBe(`Manifest is invalid: ${path}: ${message}`)
  })

  it('accepts EIP-55 and all-lowercase dev fund addresses', () => {
    for (const recipient of [
      '0x52908400098527886E0F7030069857D2E4169EE7',
      '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
      '0xde709f2102306220921060314715629080e2fb77',
      '0x27b1fdb04752bbc536007a920d24acb045561c26',
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    ]) {
      expect(manifestIssues(genesisManifest({ devFund: { recipient, suggestedRate: 0 } }))).toEqual(
        [],
      )
    }
  })

  it('reports every problem, not only the first', () => {
    const result = validateManifest(
      withChange((m) => {
        m.threshold = 9
        m.name = ''
        node(m).urls = ['http://x']
      }),
    )
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.issues.map((issue) => issue.path)).toEqual([
      'name',
      'threshold',
      'coordinators[0].nodes[0].urls[0]',
    ])
    expect(result.error.shortMessage).toBe(
      'Manifest is invalid: name: must be 1 to 100 characters long (got 0) (and 2 more problems)',
    )
  })

  it('refuses values that are not objects', () => {
    expect(manifestIssues(null)).toEqual([{ path: '', message: 'must be an object (got null)' }])
    expect(manifestIssues([])).toEqual([{ path: '', message: 'must be an object (got an array)' }])
  })

  it('checks the signed envelope: lowercase hex keys and signatures, no other fields', () => {
    const signed = signedBy(genesisManifest(), 'ana')
    expect(signedManifestIssues(signed)).toEqual([])
    const bad = {
      ...signed,
      signatures: [
        { pubkey: 'AB', sig: signed.signatures[0]!.sig },
        { pubkey: testKey('bo').pubkey, sig: 'x' },
      ],
      extra: true,
    }
    expect(signedManifestIssues(bad)).toEqual([
      { path: 'extra', message: 'is not a field of this format' },
      { path: 'signatures[0].pubkey', message: 'must be 64 lowercase hex characters (got "AB")' },
      { path: 'signatures[1].sig', message: 'must be 128 lowercase hex characters (got "x")' },
    ])
    expect(
      signedManifestIssues({ manifest: { ...genesisManifest(), threshold: 0 }, signatures: [] }),
    ).toEqual([{ path: 'manifest.threshold', message: 'must be an integer ≥ 1 (got 0)' }])
  })
})

describe('manifest hash and signatures', () => {
  const manifest = genesisManifest()

  it('hashes the canonical bytes, so key order does not matter', () => {
    const reordered = JSON.parse(canonicalJson(manifest)) as Manifest
    const reversed = Object.fromEntries(Object.entries(manifest).reverse()) as Manifest
    expect(manifestHash(reversed)).toBe(manifestHash(manifest))
    expect(manifestHash(reordered)).toBe(manifestHash(manifest))
    expect(manifestHash(manifest)).toMatch(/^[0-9a-f]{64}$/)
  })

  it('signs with BIP-340 over the hash; deterministic with fixed aux randomness', () => {
    const signature = signManifest(manifest, testKey('ana').secretKey, { auxRand: AUX })
    expect(signature.pubkey).toBe(testKey('ana').pubkey)
    expect(signature.sig).toMatch(/^[0-9a-f]{128}$/)
    expect(signManifest(manifest, testKey('ana').secretKey, { auxRand: AUX })).toEqual(signature)
    expect(signature.sig).toBe(
      bytesToHex(schnorr.sign(manifestHashBytes(manifest), testKey('ana').secretKey, AUX)),
    )
    expect(verifyManifestSignature(manifest, signature)).toBe(true)
    expect(verifyManifestSignature({ ...manifest, name: 'Other' }, signature)).toBe(false)
    const hexKey = Buffer.from(testKey('ana').secretKey).toString('hex')
    expect(signManifest(manifest, hexKey, { auxRand: AUX })).toEqual(signature)
  })

  it('refuses to sign a malformed manifest or with a bad key', () => {
    expect(() => signManifest({ ...manifest, threshold: 0 }, testKey('ana').secretKey)).toThrow(
      ManifestInvalidError,
    )
    expect(() => signManifest(manifest, new Uint8Array(32))).toThrow(ManifestSigningKeyError)
    expect(() => signManifest(manifest, 'AB')).toThrow(
      'Cannot sign the manifest: a secret key is 32 bytes or 64 lowercase hex characters',
    )
  })

  it('counts each guardian once and ignores other keys', () => {
    const signed = signedBy(manifest, 'ana', 'mallory', 'ana', 'cy')
    expect(validSigners(signed, manifest.guardians).map((g) => g.name)).toEqual(['ana', 'cy'])
  })
})

describe('federationId', () => {
  it('is the hash of the genesis manifest', () => {
    expect(federationId(genesisManifest())).toBe(manifestHash(genesisManifest()))
  })

  it('refuses a manifest that is not a genesis', () => {
    const v2 = nextManifestDraft(genesisManifest(), [], {
      issuedAt: T0 + DAY,
      expiresAt: T0 + 9 * DAY,
    })
    expect(() => federationId(v2)).toThrow(ManifestGenesisError)
    expect(() => federationId(v2)).toThrow(
      'A federation id is the hash of a genesis manifest (version 1); this is version 2',
    )
  })
})

describe('nextManifestDraft and diffManifests', () => {
  const head = genesisManifest()
  const validity = { issuedAt: T0 + 10 * DAY, expiresAt: T0 + 40 * DAY }

  it('builds version n+1 with previous set, without touching the head', () => {
    const before = structuredClone(head)
    const draft = nextManifestDraft(
      head,
      [
        { op: 'add-guardian', guardian: guardianEntry('dee') },
        { op: 'remove-guardian', pubkey: testKey('cy').pubkey },
        { op: 'set-threshold', threshold: 3 },
        {
          op: 'add-coordinator',
          coordinator: {
            pubkey: testKey('lugano').pubkey,
            alias: 'Lugano',
            description: '',
            contact: {},
            nodes: [
              {
                pubkey: testKey('node-2').pubkey,
                urls: ['wss://lugano.example'],
                services: ['inbox'],
              },
            ],
          },
        },
        {
          op: 'update-coordinator',
          pubkey: testKey('satstralia').pubkey,
          changes: { badges: ['donatesToDevFund'] },
        },
        {
          op: 'update-node',
          pubkey: testKey('node-1').pubkey,
          urls: ['wss://relay2.satstralia.example'],
        },
        { op: 'set-service', service: 'inbox', params: { retentionDays: 60 } },
      ],
      validity,
    )
    expect(head).toEqual(before)
    expect(draft.version).toBe(2)
    expect(draft.previous).toBe(manifestHash(head))
    expect(draft.issuedAt).toBe(validity.issuedAt)
    expect(draft.expiresAt).toBe(validity.expiresAt)
    expect(validateManifest(draft).ok).toBe(true)

    const ana = testKey('ana').pubkey.slice(0, 8)
    expect(ana).toHaveLength(8)
    expect(diffManifests(head, draft).map((change) => change.summary)).toEqual([
      `guardian removed: cy (${testKey('cy').pubkey.slice(0, 8)}…)`,
      `guardian added: dee (${testKey('dee').pubkey.slice(0, 8)}…)`,
      'threshold: 2 of 3 guardians → 3 of 3',
      `coordinator satstralia (${testKey('satstralia').pubkey.slice(0, 8)}…) changed: badges`,
      `node ${testKey('node-1').pubkey.slice(0, 8)}… of satstralia (${testKey('satstralia').pubkey.slice(0, 8)}…) changed: URLs added: wss://relay2.satstralia.example; URLs removed: wss://relay.satstralia.example`,
      `coordinator added: Lugano (${testKey('lugano').pubkey.slice(0, 8)}…) with nodes: ${testKey('node-2').pubkey.slice(0, 8)}… wss://lugano.example`,
      'service inbox changed: {"retentionDays":30} → {"retentionDays":60}',
      'valid 2026-11-18T11:06:40Z – 2026-12-18T11:06:40Z → 2026-11-28T11:06:40Z – 2026-12-28T11:06:40Z',
    ])
    expect(diffManifests(head, draft).map((change) => change.kind)).toEqual([
      'guardian-removed',
      'guardian-added',
      'threshold',
      'coordinator-changed',
      'node-changed',
      'coordinator-added',
      'service-changed',
      'validity',
    ])
  })

  it('reports removals of coordinators, nodes and services', () => {
    const withTwo = nextManifestDraft(
      head,
      [
        {
          op: 'add-node',
          coordinator: testKey('satstralia').pubkey,
          node: {
            pubkey: testKey('node-2').pubkey,
            urls: ['wss://b.example'],
            services: ['inbox'],
          },
        },
      ],
      validity,
    )
    const draft = nextManifestDraft(
      withTwo,
      [
        { op: 'remove-node', pubkey: testKey('node-2').pubkey },
        { op: 'update-node', pubkey: testKey('node-1').pubkey, services: ['inbox'] },
        { op: 'remove-service', service: 'orderbook' },
        { op: 'set-dev-fund', devFund: { recipient: testKey('devfund').pubkey, suggestedRate: 0 } },
        { op: 'set-name', name: 'Demo League II' },
      ],
      validity,
    )
    expect(diffManifests(withTwo, draft).map((change) => change.kind)).toEqual([
      'name',
      'node-removed',
      'node-changed',
      'service-removed',
      'dev-fund',
    ])
    const removed = nextManifestDraft(
      draft,
      [{ op: 'remove-coordinator', pubkey: testKey('satstralia').pubkey }],
      validity,
    )
    expect(diffManifests(draft, removed)).toEqual([
      {
        kind: 'coordinator-removed',
        coordinator: draft.coordinators[0],
        summary: `coordinator removed: satstralia (${testKey('satstralia').pubkey.slice(0, 8)}…) with 1 node`,
      },
    ])
  })

  it('refuses edits that do not apply, naming the edit', () => {
    expect(() =>
      nextManifestDraft(head, [{ op: 'remove-guardian', pubkey: testKey('zed').pubkey }], validity),
    ).toThrow(
      `Edit 0 (remove-guardian) cannot be applied to manifest version 1: no guardian ${testKey('zed').pubkey.slice(0, 12)}… in the manifest`,
    )
    expect(() =>
      nextManifestDraft(
        head,
        [
          { op: 'set-threshold', threshold: 2 },
          { op: 'add-guardian', guardian: guardianEntry('ana') },
        ],
        validity,
      ),
    ).toThrow(ManifestEditError)
  })

  it('refuses a draft left inconsistent by its edits', () => {
    let error: unknown
    try {
      nextManifestDraft(head, [{ op: 'remove-service', service: 'orderbook' }], validity)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ManifestInvalidError)
    expect((error as ManifestInvalidError).issues).toEqual([
      {
        path: 'coordinators[0].nodes[0].services[1]',
        message: '"orderbook" is not a service the federation runs (not a key of services)',
      },
    ])
  })
})
