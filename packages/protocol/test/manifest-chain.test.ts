// The manifest chain: the vectors in vectors/manifest-chain.json, messages pinned for each rule,
// rollback and fork detection, and a model-based property: over random sequences of proposals
// signed by random subsets of guardians, with forged, duplicated and outsiders' signatures,
// verifyChain accepts exactly the chains a simple independent model accepts.
import { readFileSync } from 'node:fs'
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type HeadComparison,
  type HeadRef,
  type Manifest,
  type ManifestEdit,
  type ManifestSignature,
  type SignedManifest,
  type VerifiedHead,
  ManifestThresholdError,
  acceptHead,
  canonicalJson,
  compareHeads,
  federationId,
  manifestHashBytes,
  nextManifestDraft,
  verifyChain,
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

type ChainVectors = {
  genesis: { manifest: Manifest; canonical: string; federationId: string }
  valid: {
    name: string
    federationId: string
    now: number
    chain: unknown[]
    head: { version: number; hash: string }
  }[]
  invalid: { name: string; federationId: string; now: number; chain: unknown[]; error: string }[]
  heads: { name: string; stored: HeadRef; candidate: HeadRef; expected: HeadComparison }[]
}
const vectors: ChainVectors = JSON.parse(
  readFileSync(new URL('../vectors/manifest-chain.json', import.meta.url), 'utf8'),
)

describe('manifest chain vectors', () => {
  it('genesis: canonical bytes and federation id', () => {
    expect(canonicalJson(vectors.genesis.manifest)).toBe(vectors.genesis.canonical)
    expect(federationId(vectors.genesis.manifest)).toBe(vectors.genesis.federationId)
  })

  it.each(vectors.valid)('accepts $name', ({ federationId, chain, now, head }) => {
    const result = verifyChain(federationId, chain, { now })
    expect(result.ok ? undefined : result.error.message).toBeUndefined()
    if (!result.ok) return
    expect({ version: result.head.version, hash: result.head.hash }).toEqual(head)
  })

  it.each(vectors.invalid)('refuses $name with $error', ({ federationId, chain, now, error }) => {
    const result = verifyChain(federationId, chain, { now })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.code).toBe(error)
    expect(result.error.message.length).toBeGreaterThan(20)
  })

  it.each(vectors.heads)('compareHeads: $name is $expected', ({ stored, candidate, expected }) => {
    expect(compareHeads(stored, candidate)).toBe(expected)
  })
})

// A small chain for the messages: ana, bo, cy (2 of 3), then a rotation to ana, bo, dee, eli (3 of 4).
const genesis = genesisManifest()
const fid = federationId(genesis)
const v2 = nextManifestDraft(
  genesis,
  [
    { op: 'remove-guardian', pubkey: testKey('cy').pubkey },
    { op: 'add-guardian', guardian: guardianEntry('dee') },
    { op: 'add-guardian', guardian: guardianEntry('eli') },
    { op: 'set-threshold', threshold: 3 },
  ],
  { issuedAt: T0 + 10 * DAY, expiresAt: T0 + 40 * DAY },
)
const s1 = signedBy(genesis, 'ana', 'bo')
const s2 = signedBy(v2, 'ana', 'bo', 'dee')
const now = T0 + DAY
const short = (name: string) => `${name} (${testKey(name).pubkey.slice(0, 8)}…)`

function refusal(chain: unknown[], at = now, id = fid) {
  const result = verifyChain(id, chain, { now: at })
  if (result.ok) throw new Error('expected a refusal')
  return result.error
}

describe('verifyChain messages', () => {
  it('threshold of the new guardian set', () => {
    const error = refusal([s1, signedBy(v2, 'ana', 'bo')])
    expect(error).toBeInstanceOf(ManifestThresholdError)
    expect(error.code).toBe('HANSA_MANIFEST_THRESHOLD')
    expect(error.message).toBe(
      'Manifest version 2 has 2 valid signatures from its own 4 guardians; the threshold is 3\n\n' +
        `Details: signed by: ${short('ana')}, ${short('bo')}; not signed by: ${short('dee')}, ${short('eli')}. ` +
        'Each guardian key counts once; signatures by other keys are ignored.',
    )
  })

  it('threshold of the previous guardian set', () => {
    const error = refusal([s1, signedBy(v2, 'ana', 'dee', 'eli', 'mallory')])
    expect(error.shortMessage).toBe(
      "Manifest version 2 has 1 valid signature from version 1's 3 guardians; the threshold is 2",
    )
    expect((error as ManifestThresholdError).set).toBe('previous')
    expect((error as ManifestThresholdError).signers.map((g) => g.name)).toEqual(['ana'])
  })

  it('genesis threshold', () => {
    expect(refusal([signedBy(genesis, 'ana', 'ana', 'mallory')]).shortMessage).toBe(
      'Genesis manifest (version 1) has 1 valid signature from its own 3 guardians; the threshold is 2',
    )
  })

  it('version, previous, genesis, expiry', () => {
    expect(refusal([s1, s1]).shortMessage).toBe(
      'Manifest chain[1] has version 1; expected version 2 (exactly one more than version 1 before it)',
    )
    const wrongPrevious = { ...v2, previous: '00'.repeat(32) }
    expect(refusal([s1, signedBy(wrongPrevious, 'ana', 'bo', 'dee')]).shortMessage).toBe(
      `Manifest version 2 names previous 000000000000…, but version 1's hash is ${fid.slice(0, 12)}…`,
    )
    expect(refusal([]).shortMessage).toBe('The manifest chain is empty; it must start with genesis')
    expect(refusal([s2]).shortMessage).toBe(
      'The manifest chain starts at version 2; it must start with the genesis manifest (version 1)',
    )
    expect(refusal([s1], now, '11'.repeat(32)).shortMessage).toBe(
      `The genesis manifest's hash ${fid.slice(0, 12)}… is not the federation id 111111111111…: ` +
        'this chain belongs to another federation',
    )
    expect(refusal([s1, s2], T0 + 40 * DAY).shortMessage).toBe(
      'Manifest version 2, the newest in the chain, expired at 2026-12-28T11:06:40Z (unix 1798456000) ' +
        '(now is 2026-12-28T11:06:40Z (unix 1798456000))',
    )
    expect(refusal([s1, { ...s2, signatures: [{ pubkey: 'x', sig: 'y' }] }]).shortMessage).toBe(
      'Manifest chain[1] (version 2) is invalid: signatures[0].pubkey: must be 64 lowercase hex ' +
        'characters (got "x") (and 1 more problems)',
    )
  })

  it('accepts an expired manifest on the way, not at the head', () => {
    const result = verifyChain(fid, [s1, s2], { now: T0 + 35 * DAY })
    expect(result.ok).toBe(true)
  })
})

function head(chain: SignedManifest[], at = now): VerifiedHead {
  const result = verifyChain(fid, chain, { now: at })
  if (!result.ok) throw result.error
  return result.head
}

describe('acceptHead: rollback and fork detection', () => {
  const other = nextManifestDraft(genesis, [{ op: 'set-name', name: 'Other League' }], {
    issuedAt: T0 + 10 * DAY,
    expiresAt: T0 + 40 * DAY,
  })
  const forked = signedBy(other, 'bo', 'cy')
  const h1 = head([s1])
  const h2 = head([s1, s2])
  const h2b = head([s1, forked])

  it('adopts the first head and newer ones; keeps the same one', () => {
    expect(acceptHead(undefined, h1)).toEqual({ ok: true, head: h1, changed: true })
    expect(acceptHead(h1, h2)).toEqual({ ok: true, head: h2, changed: true })
    expect(acceptHead(h2, head([s1, s2]))).toEqual({ ok: true, head: h2, changed: false })
  })

  it('refuses a lower version (rollback)', () => {
    const decision = acceptHead(h2, h1)
    expect(decision.ok).toBe(false)
    if (decision.ok) return
    expect(decision.error.code).toBe('HANSA_MANIFEST_ROLLBACK')
    expect(decision.error.shortMessage).toBe(
      'Refusing manifest version 1: version 2 was already verified, and a federation never goes ' +
        'back to a lower version (rollback)',
    )
  })

  it('refuses another manifest at the same version (fork), reporting both', () => {
    const decision = acceptHead(h2, h2b)
    expect(decision.ok).toBe(false)
    if (decision.ok || decision.error.code !== 'HANSA_MANIFEST_FORK') throw new Error('no fork')
    expect(decision.error.stored).toBe(s2)
    expect(decision.error.candidate).toBe(forked)
    expect(decision.error.shortMessage).toBe(
      `Two different manifests claim version 2: the stored one ${h2.hash.slice(0, 12)}… and the ` +
        `received one ${h2b.hash.slice(0, 12)}… (fork)`,
    )
  })

  it('refuses a newer head whose chain passes through another manifest at the stored version', () => {
    const v3 = nextManifestDraft(v2, [], { issuedAt: T0 + 20 * DAY, expiresAt: T0 + 50 * DAY })
    const h3 = head([s1, s2, signedBy(v3, 'ana', 'bo', 'eli')])
    const decision = acceptHead(h2b, h3)
    expect(decision.ok).toBe(false)
    if (decision.ok || decision.error.code !== 'HANSA_MANIFEST_FORK') throw new Error('no fork')
    expect(decision.error.version).toBe(2)
    expect(decision.error.stored).toBe(forked)
    expect(decision.error.candidate).toBe(s2)
  })

  it('refuses a head of another federation', () => {
    const g2 = genesisManifest({ name: 'Another' })
    const other = verifyChain(federationId(g2), [signedBy(g2, 'ana', 'bo')], { now })
    if (!other.ok) throw other.error
    const decision = acceptHead(h1, other.head)
    expect(decision.ok ? undefined : decision.error.code).toBe('HANSA_MANIFEST_GENESIS')
  })
})

// ---------------------------------------------------------------------------------------------
// The model-based property.

const POOL = Array.from({ length: 6 }, (_, i) => testKey(`pool-guardian-${i}`))
const OUTSIDERS = Array.from({ length: 2 }, (_, i) => testKey(`pool-outsider-${i}`))
const MEMBERS = Array.from({ length: 4 }, (_, i) => ({
  coordinator: testKey(`pool-coordinator-${i}`),
  node: testKey(`pool-node-${i}`),
}))
const NOW = 1_800_000_000

type Forgery = {
  claim: number
  how: 'other-key' | 'other-message' | 'random' | 'bit-flip'
  random: Uint8Array
}
type Signing = {
  /** Pool keys that sign the manifest correctly with their own key. */
  honest: number[]
  outsiders: number[]
  forged: Forgery[]
  duplicates: number[]
  order: number[]
}
type Proposal =
  | { kind: 'add-coordinator'; pick: number }
  | { kind: 'remove-coordinator'; pick: number }
  | { kind: 'rotate-guardians'; members: number[]; threshold: number }
  | { kind: 'change-threshold'; threshold: number }
type Tamper = 'none' | 'version' | 'previous'
type Step = { proposal: Proposal; signing: Signing; tamper: Tamper; expiresIn: number }
type Scenario = {
  genesis: { members: number[]; threshold: number; signing: Signing; expiresIn: number }
  steps: Step[]
}

const poolIndex = fc.integer({ min: 0, max: POOL.length - 1 })
const signingArb: fc.Arbitrary<Signing> = fc.record({
  honest: fc.uniqueArray(poolIndex, { maxLength: POOL.length }),
  outsiders: fc.uniqueArray(fc.integer({ min: 0, max: OUTSIDERS.length - 1 })),
  forged: fc.array(
    fc.record({
      claim: poolIndex,
      how: fc.constantFrom('other-key', 'other-message', 'random', 'bit-flip'),
      random: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    }),
    { maxLength: 3 },
  ),
  duplicates: fc.array(fc.nat(), { maxLength: 2 }),
  order: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
})
const members = fc.uniqueArray(poolIndex, { minLength: 1, maxLength: 5 })
// Expiry relative to NOW: expired (≤ 0, including exactly now) or not.
const expiresIn = fc.constantFrom(-5 * DAY, -1, 0, 1, 30 * DAY)
const proposalArb: fc.Arbitrary<Proposal> = fc.oneof(
  fc.record({ kind: fc.constant('add-coordinator' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('remove-coordinator' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('rotate-guardians' as const), members, threshold: fc.nat() }),
  fc.record({ kind: fc.constant('change-threshold' as const), threshold: fc.nat() }),
)
const stepArb: fc.Arbitrary<Step> = fc.record({
  proposal: proposalArb,
  signing: signingArb,
  tamper: fc.oneof(
    { arbitrary: fc.constant<Tamper>('none'), weight: 8 },
    { arbitrary: fc.constantFrom<Tamper>('version', 'previous'), weight: 1 },
  ),
  expiresIn,
})
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  genesis: fc.record({ members, threshold: fc.nat(), signing: signingArb, expiresIn }),
  steps: fc.array(stepArb, { maxLength: 3 }),
})

// Signs the hash directly (signManifest would validate the manifest again for every signer);
// manifest.test.ts shows that signManifest makes the same signature.
const signatureCache = new Map<string, ManifestSignature>()
function sign(manifest: Manifest, secretKey: Uint8Array): ManifestSignature {
  const hash = manifestHashBytes(manifest)
  const id = `${bytesToHex(hash)}:${bytesToHex(secretKey)}`
  let signature = signatureCache.get(id)
  if (signature === undefined) {
    const sig = bytesToHex(schnorr.sign(hash, secretKey, AUX))
    signature = { pubkey: bytesToHex(schnorr.getPublicKey(secretKey)), sig }
    signatureCache.set(id, signature)
  }
  return signature
}

function signatures(manifest: Manifest, signing: Signing): ManifestSignature[] {
  const entries: ManifestSignature[] = []
  for (const k of signing.honest) entries.push(sign(manifest, POOL[k]!.secretKey))
  for (const k of signing.outsiders) entries.push(sign(manifest, OUTSIDERS[k]!.secretKey))
  const honestEntries = [...entries]
  for (const forgery of signing.forged) {
    const claimed = POOL[forgery.claim]!
    let sig: string
    switch (forgery.how) {
      case 'other-key':
        sig = sign(manifest, OUTSIDERS[0]!.secretKey).sig
        break
      case 'other-message':
        sig = sign({ ...manifest, name: `${manifest.name} (forged)` }, claimed.secretKey).sig
        break
      case 'random':
        sig = bytesToHex(forgery.random)
        break
      case 'bit-flip': {
        const real = sign(manifest, claimed.secretKey).sig
        const at = forgery.random[0]! % real.length
        const flipped = (Number.parseInt(real[at]!, 16) ^ (1 << (forgery.random[1]! % 4))).toString(
          16,
        )
        sig = real.slice(0, at) + flipped + real.slice(at + 1)
        break
      }
    }
    entries.push({ pubkey: claimed.pubkey, sig })
  }
  if (honestEntries.length > 0) {
    for (const d of signing.duplicates) entries.push(honestEntries[d % honestEntries.length]!)
  }
  const ranked = entries.map((entry, i) => ({ entry, rank: signing.order[i % 16]! * 100 + i }))
  ranked.sort((a, b) => a.rank - b.rank)
  return ranked.map(({ entry }) => entry)
}

type GuardianModel = { members: number[]; threshold: number }

/** The independent model: what a threshold of guardians signed, from the scenario alone. */
function model(scenario: Scenario): { ok: true } | { ok: false; code: string; signers?: number } {
  const count = (signing: Signing, set: GuardianModel) =>
    set.members.filter((m) => signing.honest.includes(m)).length
  const g = scenario.genesis
  let current: GuardianModel = {
    members: g.members,
    threshold: 1 + (g.threshold % g.members.length),
  }
  const genesisSigners = count(g.signing, current)
  if (genesisSigners < current.threshold) {
    return { ok: false, code: 'HANSA_MANIFEST_THRESHOLD', signers: genesisSigners }
  }
  let expiresIn = g.expiresIn
  for (const step of scenario.steps) {
    let next = current
    if (step.proposal.kind === 'rotate-guardians') {
      const size = step.proposal.members.length
      next = { members: step.proposal.members, threshold: 1 + (step.proposal.threshold % size) }
    } else if (step.proposal.kind === 'change-threshold') {
      next = { ...current, threshold: 1 + (step.proposal.threshold % current.members.length) }
    }
    if (step.tamper === 'version') return { ok: false, code: 'HANSA_MANIFEST_VERSION' }
    if (step.tamper === 'previous') return { ok: false, code: 'HANSA_MANIFEST_PREVIOUS' }
    const old = count(step.signing, current)
    if (old < current.threshold)
      return { ok: false, code: 'HANSA_MANIFEST_THRESHOLD', signers: old }
    const own = count(step.signing, next)
    if (own < next.threshold) return { ok: false, code: 'HANSA_MANIFEST_THRESHOLD', signers: own }
    current = next
    expiresIn = step.expiresIn
  }
  return expiresIn <= 0 ? { ok: false, code: 'HANSA_MANIFEST_EXPIRED' } : { ok: true }
}

function genesisOf(scenario: Scenario): Manifest {
  const g = scenario.genesis
  return {
    hansa: 1,
    name: 'Property League',
    version: 1,
    previous: null,
    issuedAt: NOW - 100 * DAY,
    expiresAt: NOW + g.expiresIn,
    guardians: g.members.map((k) => ({ pubkey: POOL[k]!.pubkey, name: `guardian-${k}` })),
    threshold: 1 + (g.threshold % g.members.length),
    coordinators: [memberEntry(0)],
    services: { inbox: { retentionDays: 30 } },
    devFund: { recipient: OUTSIDERS[1]!.pubkey, suggestedRate: 0.2 },
  }
}

function memberEntry(i: number) {
  const member = MEMBERS[i]!
  return {
    pubkey: member.coordinator.pubkey,
    alias: `coordinator-${i}`,
    description: '',
    contact: {},
    nodes: [{ pubkey: member.node.pubkey, urls: [`wss://node-${i}.example`], services: ['inbox'] }],
  }
}

function editsFor(before: Manifest, proposal: Proposal): ManifestEdit[] {
  const present = MEMBERS.map((_, i) => i).filter((i) =>
    before.coordinators.some((c) => c.pubkey === MEMBERS[i]!.coordinator.pubkey),
  )
  switch (proposal.kind) {
    case 'add-coordinator': {
      const absent = MEMBERS.map((_, i) => i).filter((i) => !present.includes(i))
      if (absent.length === 0) return []
      return [
        { op: 'add-coordinator', coordinator: memberEntry(absent[proposal.pick % absent.length]!) },
      ]
    }
    case 'remove-coordinator':
      if (present.length === 0) return []
      return [
        {
          op: 'remove-coordinator',
          pubkey: MEMBERS[present[proposal.pick % present.length]!]!.coordinator.pubkey,
        },
      ]
    case 'rotate-guardians':
      return [
        {
          op: 'set-guardians',
          guardians: proposal.members.map((k) => ({
            pubkey: POOL[k]!.pubkey,
            name: `guardian-${k}`,
          })),
        },
        { op: 'set-threshold', threshold: 1 + (proposal.threshold % proposal.members.length) },
      ]
    case 'change-threshold':
      return [
        { op: 'set-threshold', threshold: 1 + (proposal.threshold % before.guardians.length) },
      ]
  }
}

function build(scenario: Scenario): { id: string; chain: SignedManifest[] } {
  const genesis = genesisOf(scenario)
  const chain: SignedManifest[] = [
    { manifest: genesis, signatures: signatures(genesis, scenario.genesis.signing) },
  ]
  let before = genesis
  scenario.steps.forEach((step, i) => {
    const draft = nextManifestDraft(before, editsFor(before, step.proposal), {
      issuedAt: NOW - (90 - i) * DAY,
      expiresAt: NOW + step.expiresIn,
    })
    if (step.tamper === 'version') draft.version += 1
    if (step.tamper === 'previous') {
      draft.previous = bytesToHex(sha256(new TextEncoder().encode(`not version ${before.version}`)))
    }
    chain.push({ manifest: draft, signatures: signatures(draft, step.signing) })
    before = draft
  })
  return { id: federationId(genesis), chain }
}

describe('verifyChain property', () => {
  it('accepts exactly the chains a threshold of the old and of the new guardians signed', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { id, chain } = build(scenario)
        const expected = model(scenario)
        const result = verifyChain(id, chain, { now: NOW })
        if (expected.ok) {
          expect(result.ok ? 'ok' : result.error.message).toBe('ok')
          if (result.ok) expect(result.head.version).toBe(chain.length)
        } else {
          expect(result.ok ? 'ok' : result.error.code).toBe(expected.code)
          if (!result.ok && result.error instanceof ManifestThresholdError) {
            expect(result.error.signers.length).toBe(expected.signers)
          }
        }
      }),
      { numRuns: 100 },
    )
  })

  it('never accepts a chain whose signatures were all forged or by outsiders', () => {
    const forgedOnly = signingArb.map((signing) => ({ ...signing, honest: [], duplicates: [] }))
    fc.assert(
      fc.property(scenarioArb, fc.nat(), forgedOnly, (scenario, at, signing) => {
        // Replace the signing of one entry (genesis or a step) by forgeries only.
        const index = at % (scenario.steps.length + 1)
        const forged: Scenario =
          index === 0
            ? { ...scenario, genesis: { ...scenario.genesis, signing } }
            : {
                ...scenario,
                steps: scenario.steps.map((step, i) =>
                  i === index - 1 ? { ...step, signing } : step,
                ),
              }
        const { id, chain } = build(forged)
        expect(verifyChain(id, chain, { now: NOW }).ok).toBe(false)
      }),
      { numRuns: 40 },
    )
  })
})
