// A client's stored head: it moves only forward, refuses a rollback, and reports a fork with
// both signed manifests, keeping the head it had.
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import {
  type Manifest,
  type SignedManifest,
  manifestHash,
  nextManifestDraft,
  signManifest,
} from '@hansa/protocol'
import { ManifestStore, memoryHeadStorage } from '@hansa/client'

const T0 = 1_795_000_000
const DAY = 86_400
const keys = ['ana', 'bo', 'cy'].map(() => schnorr.utils.randomSecretKey())
const pub = (k: Uint8Array) => bytesToHex(schnorr.getPublicKey(k))

const genesis: Manifest = {
  hansa: 1,
  name: 'Client League',
  version: 1,
  previous: null,
  issuedAt: T0,
  expiresAt: T0 + 30 * DAY,
  guardians: keys.map((k, i) => ({ pubkey: pub(k), name: `g${i}` })),
  threshold: 2,
  coordinators: [],
  services: { inbox: {} },
  devFund: { recipient: pub(keys[0]!), suggestedRate: 0.2 },
}

const sign = (m: Manifest, ...who: number[]): SignedManifest => ({
  manifest: m,
  signatures: who.map((i) => signManifest(m, keys[i]!)),
})
const next = (m: Manifest, name: string) =>
  nextManifestDraft(m, [{ op: 'set-name', name }], { issuedAt: T0 + DAY, expiresAt: T0 + 60 * DAY })

const v1 = sign(genesis, 0, 1)
const v2 = sign(next(genesis, 'Version two'), 0, 2)
const v3 = sign(next(v2.manifest, 'Version three'), 1, 2)
const otherV2 = sign(next(genesis, 'Another version two'), 1, 2)
const id = manifestHash(genesis)

const store = () =>
  new ManifestStore({ federationId: id, storage: memoryHeadStorage(), now: () => T0 + 2 * DAY })

describe('client manifest store', () => {
  it('keeps the highest verified version', async () => {
    const s = store()
    expect(await s.update([v1])).toMatchObject({ ok: true, changed: true, head: { version: 1 } })
    expect(await s.update([v1, v2, v3])).toMatchObject({ ok: true, head: { version: 3 } })
    expect(await s.update([v1, v2, v3])).toMatchObject({ ok: true, changed: false })
    expect((await s.head())?.version).toBe(3)
  })

  it('refuses a rollback to a lower version', async () => {
    const s = store()
    await s.update([v1, v2])
    const result = await s.update([v1])
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.code).toBe('HANSA_MANIFEST_ROLLBACK')
    expect(result.error.message).toMatch(/version 2 was already verified/)
    expect((await s.head())?.version).toBe(2)
  })

  it('reports a fork with both manifests and keeps its head', async () => {
    const s = store()
    await s.update([v1, v2])
    const result = await s.update([v1, otherV2], 'ws://evil.example')
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.code).toBe('HANSA_MANIFEST_FORK')
    expect(result.fork).toMatchObject({
      version: 2,
      storedHash: manifestHash(v2.manifest),
      candidateHash: manifestHash(otherV2.manifest),
      stored: v2,
      candidate: otherV2,
      source: 'ws://evil.example',
    })
    expect(s.forks).toHaveLength(1)
    expect((await s.head())?.hash).toBe(manifestHash(v2.manifest))
    // a longer chain through the other version 2 is a fork too
    const through = sign(next(otherV2.manifest, 'Built on the fork'), 0, 1)
    const longer = await s.update([v1, otherV2, through])
    expect(!longer.ok && longer.error.code).toBe('HANSA_MANIFEST_FORK')
    expect((await s.head())?.version).toBe(2)
  })

  it('names the rule a bad chain breaks', async () => {
    const s = store()
    const short = await s.update([v1, sign(v2.manifest, 0)])
    expect(!short.ok && short.error.code).toBe('HANSA_MANIFEST_THRESHOLD')
    const expired = new ManifestStore({
      federationId: id,
      storage: memoryHeadStorage(),
      now: () => T0 + 365 * DAY,
    })
    const late = await expired.update([v1])
    expect(!late.ok && late.error.code).toBe('HANSA_MANIFEST_EXPIRED')
    expect(await s.head()).toBeUndefined()
  })
})
