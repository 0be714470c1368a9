// Shared fixtures for the federation tests: deterministic keys and a small valid manifest.
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { type Manifest, type SignedManifest, signManifest } from '@hansa/protocol'

export const DAY = 86_400
export const T0 = 1_795_000_000
export const AUX = new Uint8Array(32)

export type TestKey = { name: string; secretKey: Uint8Array; pubkey: string }

const cache = new Map<string, TestKey>()

/** A key derived from its name: sha256("hansa test key: <name>"). */
export function testKey(name: string): TestKey {
  let key = cache.get(name)
  if (key === undefined) {
    const secretKey = sha256(new TextEncoder().encode(`hansa test key: ${name}`))
    key = { name, secretKey, pubkey: bytesToHex(schnorr.getPublicKey(secretKey)) }
    cache.set(name, key)
  }
  return key
}

export function guardianEntry(name: string): { pubkey: string; name: string } {
  return { pubkey: testKey(name).pubkey, name }
}

/** A genesis with guardians ana, bo, cy (threshold 2) and one coordinator with one node. */
export function genesisManifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    hansa: 1,
    name: 'Demo League',
    version: 1,
    previous: null,
    issuedAt: T0,
    expiresAt: T0 + 30 * DAY,
    guardians: [guardianEntry('ana'), guardianEntry('bo'), guardianEntry('cy')],
    threshold: 2,
    coordinators: [
      {
        pubkey: testKey('satstralia').pubkey,
        alias: 'satstralia',
        description: 'Coordinator in Oceania.',
        contact: { email: 'ops@satstralia.example' },
        nodes: [
          {
            pubkey: testKey('node-1').pubkey,
            urls: ['wss://relay.satstralia.example'],
            services: ['inbox', 'orderbook'],
          },
        ],
      },
    ],
    services: { inbox: { retentionDays: 30 }, orderbook: { currencies: ['EUR', 'USD'] } },
    devFund: { recipient: testKey('devfund').pubkey, suggestedRate: 0.2 },
    ...overrides,
  }
}

export function signedBy(manifest: Manifest, ...names: string[]): SignedManifest {
  return {
    manifest,
    signatures: names.map((name) =>
      signManifest(manifest, testKey(name).secretKey, { auxRand: AUX }),
    ),
  }
}
