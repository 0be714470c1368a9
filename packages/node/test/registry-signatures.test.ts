// The registry signatures a node gathers (federation/registry-signatures.ts), on a real SQLite
// file, without a chain (the digest and the recovery are viem's, the same the contract
// checks — packages/cli/test/registry-signatures.test.ts anchors with them on anvil): a
// guardian's own signature is kept, one per guardian, and any other body — random JSON, a
// stranger, another guardian's signature, another registry — is refused with a code and
// stores nothing.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registryUpdateOf, registryUpdateTypedData } from '@hansa/contracts'
import { HansaError, type Manifest, generateSecretKey, nostrPublicKey } from '@hansa/protocol'
import fc from 'fast-check'
import { type Hex, getAddress } from 'viem'
import { signTypedData } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { RegistrySignatures } from '../src/federation/registry-signatures.js'
import { removeDir } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'hansa-registry-sigs-'))
const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`
const registry = getAddress(`0x${'77'.repeat(20)}`)
const chainId = 31337
const [ana, bo, stranger] = [generateSecretKey(), generateSecretKey(), generateSecretKey()]
const manifest = {
  version: 1,
  guardians: [
    { pubkey: nostrPublicKey(ana), name: 'ana' },
    { pubkey: nostrPublicKey(bo), name: 'bo' },
  ],
  threshold: 2,
  coordinators: [{ nodes: [{ pubkey: 'ab'.repeat(32), services: ['inbox'] }] }],
} as unknown as Manifest
const hash = 'cd'.repeat(32)
const store = new RegistrySignatures({
  path: join(dir, 'federation.sqlite'),
  registry: () => registry,
  chainId: () => chainId,
  lookup: (h) => (h === hash ? { manifest, previous: null, federationId: hash } : null),
  now: () => 1,
})
const typed = registryUpdateTypedData(registryUpdateOf(hash, hash, manifest), chainId, registry)
const signed = async (key: Uint8Array, data = typed) => ({
  hash,
  chainId,
  registry,
  signature: await signTypedData({ privateKey: hex(key), ...data }),
})
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => {
      if (!(e instanceof HansaError)) throw e
      return e.code
    },
  )

afterAll(() => {
  store.close()
  removeDir(dir)
})

describe('registry signatures on a node', () => {
  it('refuses any body that is not a guardian’s own signature, with a code, and keeps nothing', async () => {
    const body = fc.oneof(
      fc.anything(),
      fc.record({
        hash: fc.oneof(fc.constant(hash), fc.string(), fc.anything()),
        chainId: fc.oneof(fc.constant(chainId), fc.integer(), fc.anything()),
        registry: fc.oneof(fc.constant(registry), fc.string(), fc.anything()),
        signature: fc.oneof(
          fc
            .string({
              unit: fc.constantFrom(...'0123456789abcdef'),
              minLength: 130,
              maxLength: 130,
            })
            .map((h) => `0x${h}`),
          fc.string(),
          fc.anything(),
        ),
      }),
    )
    const codes = new Set<string | null>()
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        codes.add(await codeOf(store.add(nostrPublicKey(ana), b)))
      }),
      { numRuns: 500 },
    )
    expect([...codes].filter((c) => !c?.startsWith('HANSA_'))).toEqual([])
    // the bodies reached every check, up to the signature's recovery
    expect(codes).toContain('HANSA_REQUEST_INVALID')
    expect(codes).toContain('HANSA_REGISTRY_SIGNATURE')
    expect(store.view(hash).signatures).toEqual([])
    // found by this property: a value whose toString throws crashed the refusal's message
    const hostile = { hash, chainId: { toString: 0 }, registry, signature: '' }
    expect(await codeOf(store.add(nostrPublicKey(ana), hostile))).toBe('HANSA_REGISTRY_SIGNATURE')
  })

  it('keeps a guardian’s own signature, one per guardian; refuses a stranger, a borrowed signature and another registry', async () => {
    expect(await codeOf(store.add(nostrPublicKey(stranger), await signed(stranger)))).toBe(
      'HANSA_NOT_GUARDIAN',
    )
    expect(await codeOf(store.add(nostrPublicKey(bo), await signed(ana)))).toBe(
      'HANSA_REGISTRY_SIGNATURE',
    )
    const elsewhere = registryUpdateTypedData(
      registryUpdateOf(hash, hash, manifest),
      chainId,
      getAddress(`0x${'88'.repeat(20)}`),
    )
    expect(await codeOf(store.add(nostrPublicKey(ana), await signed(ana, elsewhere)))).toBe(
      'HANSA_REGISTRY_SIGNATURE',
    )
    expect(
      await codeOf(
        store.add(nostrPublicKey(ana), { ...(await signed(ana)), hash: 'ef'.repeat(32) }),
      ),
    ).toBe('HANSA_PROPOSAL_NOT_FOUND')
    const first = await signed(ana)
    await store.add(nostrPublicKey(ana), first)
    await store.add(nostrPublicKey(ana), await signed(ana))
    await store.add(nostrPublicKey(bo), await signed(bo))
    const view = store.view(hash)
    expect(view).toMatchObject({ hash, version: 1, federationId: hash, chainId, registry })
    expect(view.signatures.map((s) => s.guardian).sort()).toEqual(
      [nostrPublicKey(ana), nostrPublicKey(bo)].sort(),
    )
  })
})
