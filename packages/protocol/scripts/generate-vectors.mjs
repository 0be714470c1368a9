// Generates the federation test vectors in packages/protocol/vectors/ from deterministic keys
// (each secret key is sha256("hansa test vector key: <name>"), BIP-340 aux randomness is 32 zero
// bytes), so every run writes the same bytes and other implementations can check against them:
//   manifest-chain.json  valid and invalid chains with the expected head or error code, and
//                        head comparisons (same / newer / rollback / fork)
//   invite-codes.json    valid codes with their content, invalid codes with the error code
//   canonical-json.json  RFC 8785 inputs and outputs
// Run after `npm run build`:  node packages/protocol/scripts/generate-vectors.mjs
//                             npx biome format --write packages/protocol/vectors
// test/federation-vectors.test.ts regenerates the vectors in memory and fails if the files hold
// other values (it compares parsed JSON, so formatting does not matter).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { bech32, bech32m } from '@scure/base'
import {
  canonicalJson,
  encodeInviteCode,
  federationId,
  manifestHash,
  nextManifestDraft,
  signManifest,
  verifyChain,
} from '../dist/index.js'

const DAY = 86_400
const T0 = 1_795_000_000
const AUX = new Uint8Array(32)

function secretKey(name) {
  return sha256(new TextEncoder().encode(`hansa test vector key: ${name}`))
}

function pubkey(name) {
  return bytesToHex(schnorr.getPublicKey(secretKey(name)))
}

const KEY_NAMES = [
  ['ana', 'guardian'],
  ['bo', 'guardian'],
  ['cy', 'guardian'],
  ['dee', 'guardian'],
  ['eli', 'guardian'],
  ['mallory', 'not a guardian'],
  ['satstralia', 'coordinator'],
  ['lugano', 'coordinator'],
  ['node-1', 'node'],
  ['node-2', 'node'],
  ['node-3', 'node'],
  ['devfund', 'dev fund recipient'],
]

function sign(manifest, ...names) {
  return {
    manifest,
    signatures: names.map((name) => signManifest(manifest, secretKey(name), { auxRand: AUX })),
  }
}

function guardian(name) {
  return { pubkey: pubkey(name), name }
}

function buildManifests() {
  const genesis = {
    hansa: 1,
    name: 'Demo League',
    version: 1,
    previous: null,
    issuedAt: T0,
    expiresAt: T0 + 30 * DAY,
    guardians: [guardian('ana'), guardian('bo'), guardian('cy')],
    threshold: 2,
    coordinators: [
      {
        pubkey: pubkey('satstralia'),
        alias: 'satstralia',
        description: 'Coordinator in Oceania. Fast support in English.',
        contact: { email: 'ops@satstralia.example', nostr: 'npub1satstralia' },
        badges: ['donatesToDevFund'],
        policies: { 'Data retention': 'Orders are deleted 7 days after completion.' },
        nodes: [
          {
            pubkey: pubkey('node-1'),
            urls: ['wss://relay.satstralia.example', 'ws://satstralia.onion.example:4869/'],
            services: ['inbox', 'orderbook'],
          },
        ],
      },
    ],
    services: { inbox: { retentionDays: 30 }, orderbook: { currencies: ['EUR', 'USD'] } },
    devFund: { recipient: pubkey('devfund'), suggestedRate: 0.2 },
  }
  const at = (k) => ({ issuedAt: T0 + k * 10 * DAY, expiresAt: T0 + (k * 10 + 30) * DAY })
  const v2 = nextManifestDraft(
    genesis,
    [
      {
        op: 'add-coordinator',
        coordinator: {
          pubkey: pubkey('lugano'),
          alias: 'Lugano Exchange',
          description: 'Swiss coordinator; orders in CHF and EUR.',
          contact: { website: 'https://lugano.example' },
          nodes: [
            {
              pubkey: pubkey('node-2'),
              urls: ['wss://lugano.example/hansa'],
              services: ['orderbook'],
            },
          ],
        },
      },
    ],
    at(1),
  )
  // Guardian rotation: cy leaves, dee and eli join, threshold 3 of 4.
  const v3 = nextManifestDraft(
    v2,
    [
      { op: 'remove-guardian', pubkey: pubkey('cy') },
      { op: 'add-guardian', guardian: guardian('dee') },
      { op: 'add-guardian', guardian: guardian('eli') },
      { op: 'set-threshold', threshold: 3 },
    ],
    at(2),
  )
  const v4 = nextManifestDraft(
    v3,
    [
      {
        op: 'add-node',
        coordinator: pubkey('lugano'),
        node: { pubkey: pubkey('node-3'), urls: ['wss://eu.lugano.example'], services: ['inbox'] },
      },
      { op: 'set-service', service: 'inbox', params: { retentionDays: 60 } },
    ],
    at(3),
  )
  // A conflicting version 2, also signed by a threshold: what a fork looks like.
  const v2b = nextManifestDraft(
    genesis,
    [{ op: 'remove-coordinator', pubkey: pubkey('satstralia') }],
    at(1),
  )
  return { genesis, v2, v3, v4, v2b }
}

function chainVectors() {
  const { genesis, v2, v3, v4, v2b } = buildManifests()
  const id = federationId(genesis)
  const s1 = sign(genesis, 'ana', 'bo')
  const s2 = sign(v2, 'ana', 'cy')
  const s3 = sign(v3, 'ana', 'bo', 'dee')
  const s4 = sign(v4, 'bo', 'dee', 'eli')
  const s2b = sign(v2b, 'bo', 'cy')
  const fresh = T0 + DAY
  const late = T0 + 35 * DAY // genesis expired, v4 (valid until T0 + 60 days) not

  const valid = [
    {
      name: 'genesis-only',
      description: 'A chain of one: the genesis, signed by 2 of its 3 guardians (threshold 2).',
      now: fresh,
      chain: [s1],
    },
    {
      name: 'rotation',
      description:
        'Versions 1 to 4; version 3 rotates the guardians (cy leaves, dee and eli join, threshold 3 of 4) ' +
        'and is signed by 2 of the old set and 3 of the new. Versions 1 and 2 have expired on the way; the head has not.',
      now: late,
      chain: [s1, s2, s3, s4],
    },
    {
      name: 'extra-signatures-ignored',
      description:
        'Version 2 also carries a signature by a non-guardian (mallory), a repeated signature by ana and ' +
        "a forged entry for cy before cy's valid one: each guardian counts once, if any of its entries is valid.",
      now: fresh,
      chain: [
        s1,
        {
          manifest: v2,
          signatures: [
            ...sign(v2, 'mallory').signatures,
            ...s2.signatures,
            s2.signatures[0],
            { pubkey: pubkey('cy'), sig: sign(v2, 'mallory').signatures[0].sig },
          ],
        },
      ],
    },
    {
      name: 'fork-branch',
      description:
        'A different version 2 (satstralia removed), also signed by a threshold: valid on its own, a fork ' +
        'of the "rotation" chain (see heads).',
      now: fresh,
      chain: [s1, s2b],
    },
  ].map((vector) => {
    const result = verifyChain(id, vector.chain, { now: vector.now })
    if (!result.ok) throw new Error(`valid vector ${vector.name} fails: ${result.error.message}`)
    return {
      ...vector,
      federationId: id,
      head: { version: result.head.version, hash: result.head.hash },
    }
  })

  const tampered = structuredClone(s2)
  tampered.manifest.coordinators[1].alias = 'Lugano Exchange (official)'
  const wrongPrevious = nextManifestDraft(genesis, [], {
    issuedAt: T0 + 10 * DAY,
    expiresAt: T0 + 40 * DAY,
  })
  wrongPrevious.previous = manifestHash(v2b)
  const zeroThreshold = structuredClone(s2)
  zeroThreshold.manifest.threshold = 0
  const httpUrl = structuredClone(s2)
  httpUrl.manifest.coordinators[1].nodes[0].urls = ['https://lugano.example/hansa']
  const upperSig = structuredClone(s2)
  upperSig.signatures[0].sig = upperSig.signatures[0].sig.toUpperCase()
  const unknownField = structuredClone(s2)
  unknownField.manifest.treshold = 2

  const invalid = [
    ['empty', 'An empty chain has no genesis.', 'HANSA_MANIFEST_GENESIS', fresh, []],
    [
      'other-federation',
      "The genesis hash is not the federation id given (it is version 2b's hash).",
      'HANSA_MANIFEST_GENESIS',
      fresh,
      [s1],
      manifestHash(v2b),
    ],
    [
      'starts-after-genesis',
      'The chain starts at version 2.',
      'HANSA_MANIFEST_GENESIS',
      fresh,
      [s2, s3],
    ],
    [
      'genesis-under-signed',
      'Genesis signed by 1 of 3 guardians; threshold 2.',
      'HANSA_MANIFEST_THRESHOLD',
      fresh,
      [sign(genesis, 'ana')],
    ],
    [
      'under-signed',
      'Version 2 signed by ana and mallory: one guardian; threshold 2.',
      'HANSA_MANIFEST_THRESHOLD',
      fresh,
      [s1, sign(v2, 'ana', 'mallory')],
    ],
    [
      'duplicate-signature',
      "Version 2 carries ana's signature twice; it counts once.",
      'HANSA_MANIFEST_THRESHOLD',
      fresh,
      [s1, { manifest: v2, signatures: [s2.signatures[0], s2.signatures[0]] }],
    ],
    [
      'forged-signature',
      "Version 2 carries ana's signature and an entry claiming bo's key but signed by mallory.",
      'HANSA_MANIFEST_THRESHOLD',
      fresh,
      [
        s1,
        {
          manifest: v2,
          signatures: [
            s2.signatures[0],
            { pubkey: pubkey('bo'), sig: sign(v2, 'mallory').signatures[0].sig },
          ],
        },
      ],
    ],
    [
      'signature-of-another-manifest',
      "Version 2 carries ana's signature and bo's signature of the genesis, not of version 2.",
      'HANSA_MANIFEST_THRESHOLD',
      fresh,
      [s1, { manifest: v2, signatures: [s2.signatures[0], s1.signatures[1]] }],
    ],
    [
      'tampered',
      'Version 2 was changed after it was signed.',
      'HANSA_MANIFEST_THRESHOLD',
      fresh,
      [s1, tampered],
    ],
    [
      'rotation-new-set-short',
      'Version 3 (threshold 3 of ana, bo, dee, eli) signed by ana and bo only: enough for the old set, not the new.',
      'HANSA_MANIFEST_THRESHOLD',
      fresh,
      [s1, s2, sign(v3, 'ana', 'bo')],
    ],
    [
      'rotation-old-set-short',
      'Version 3 signed by ana, dee and eli: enough for the new set, 1 of the old (threshold 2).',
      'HANSA_MANIFEST_THRESHOLD',
      fresh,
      [s1, s2, sign(v3, 'ana', 'dee', 'eli')],
    ],
    ['version-gap', 'Version 3 follows version 1.', 'HANSA_MANIFEST_VERSION', fresh, [s1, s3]],
    ['version-repeat', 'The genesis twice.', 'HANSA_MANIFEST_VERSION', fresh, [s1, s1]],
    [
      'wrong-previous',
      'Version 2 names the hash of another manifest as previous (well signed otherwise).',
      'HANSA_MANIFEST_PREVIOUS',
      fresh,
      [s1, sign(wrongPrevious, 'ana', 'bo')],
    ],
    [
      'expired-head',
      'Versions 1 and 2, checked after version 2 expired (a freeze attack).',
      'HANSA_MANIFEST_EXPIRED',
      T0 + 41 * DAY,
      [s1, s2],
    ],
    [
      'threshold-zero',
      'Version 2 has threshold 0.',
      'HANSA_MANIFEST_INVALID',
      fresh,
      [s1, zeroThreshold],
    ],
    [
      'http-url',
      'A node URL is https://, not ws:// or wss://.',
      'HANSA_MANIFEST_INVALID',
      fresh,
      [s1, httpUrl],
    ],
    [
      'uppercase-signature',
      'A signature is uppercase hex.',
      'HANSA_MANIFEST_INVALID',
      fresh,
      [s1, upperSig],
    ],
    [
      'unknown-field',
      'Version 2 has a field "treshold".',
      'HANSA_MANIFEST_INVALID',
      fresh,
      [s1, unknownField],
    ],
    [
      'not-an-object',
      'The second entry is a string.',
      'HANSA_MANIFEST_INVALID',
      fresh,
      [s1, 'version 2'],
    ],
  ].map(([name, description, error, now, chain, fid]) => {
    const vector = { name, description, federationId: fid ?? id, now, chain, error }
    const result = verifyChain(vector.federationId, chain, { now })
    if (result.ok || result.error.code !== error) {
      throw new Error(
        `invalid vector ${name}: expected ${error}, got ${result.ok ? 'ok' : result.error.code}`,
      )
    }
    return vector
  })

  const hashes = [s1, s2, s3, s4].map((s) => manifestHash(s.manifest))
  const ref = (n) => ({ version: n, hash: hashes[n - 1], hashes: hashes.slice(0, n) })
  const forkRef = { version: 2, hash: manifestHash(v2b), hashes: [hashes[0], manifestHash(v2b)] }
  const heads = [
    ['same', 'The same head again.', ref(2), ref(2), 'same'],
    [
      'newer',
      'Version 4, whose chain passes through the stored version 2.',
      ref(2),
      ref(4),
      'newer',
    ],
    ['rollback', 'Version 2 after version 4 was stored.', ref(4), ref(2), 'rollback'],
    ['fork-same-version', 'Another version 2.', ref(2), forkRef, 'fork'],
    [
      'fork-through',
      'Version 4 whose chain passes through a version 2 other than the stored one.',
      forkRef,
      ref(4),
      'fork',
    ],
  ].map(([name, description, stored, candidate, expected]) => ({
    name,
    description,
    stored,
    candidate,
    expected,
  }))

  return {
    description:
      'Hansa manifest chains (DESIGN.md "The manifest"). Canonical bytes: RFC 8785; hash: sha256, lowercase hex; ' +
      'signature: BIP-340 over the 32-byte hash. verifyChain(federationId, chain, now) must accept each valid chain ' +
      'with the given head and refuse each invalid one with the given error code (rules checked entry by entry, ' +
      'oldest first: structure, genesis/version, previous, threshold of the previous then of the own guardians; ' +
      'finally the head must not have expired: now < expiresAt). heads: compareHeads(stored, candidate).',
    keys: KEY_NAMES.map(([name, role]) => ({
      name,
      role,
      secretKey: bytesToHex(secretKey(name)),
      pubkey: pubkey(name),
    })),
    genesis: { manifest: genesis, canonical: canonicalJson(genesis), federationId: id },
    valid,
    invalid,
    heads,
  }
}

function inviteVectors() {
  const { genesis } = buildManifests()
  const id = federationId(genesis)
  const valid = [
    { name: 'one-url', federationId: id, urls: ['wss://relay.satstralia.example'] },
    {
      name: 'several-urls',
      federationId: id,
      urls: [
        'wss://relay.satstralia.example',
        'ws://127.0.0.1:4869',
        'wss://lugano.example/hansa?x=1',
      ],
    },
    { name: 'unicode-host', federationId: '00'.repeat(32), urls: ['wss://bücher.example/relay'] },
  ].map((vector) => ({ ...vector, code: encodeInviteCode(vector) }))

  const base = valid[0].code
  const raw = (bytes, prefix = 'hansa', codec = bech32m) =>
    codec.encode(prefix, codec.toWords(bytes), 1023)
  const payload = (format, urls, extra = []) => {
    const parts = [format, ...Array.from({ length: 32 }, (_, i) => i), urls.length]
    for (const url of urls) {
      const bytes = new TextEncoder().encode(url)
      parts.push(bytes.length >> 8, bytes.length & 0xff, ...bytes)
    }
    return Uint8Array.from([...parts, ...extra])
  }
  const good = payload(1, ['wss://a.example'])
  const flip = (code, i) => {
    const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
    const c = code[i]
    return code.slice(0, i) + alphabet[(alphabet.indexOf(c) + 1) % 32] + code.slice(i + 1)
  }
  const upperOne = (code) => {
    const i = code.slice(6).search(/[a-z]/) + 6
    return code.slice(0, i) + code[i].toUpperCase() + code.slice(i + 1)
  }
  const invalid = [
    ['empty', 'The empty string.', ''],
    ['wrong-prefix', 'A valid bech32m string with the prefix "fed".', raw(good, 'fed')],
    ['mistyped', 'One character changed.', flip(base, 20)],
    ['mixed-case', 'One letter in upper case.', upperOne(base)],
    [
      'bech32-not-m',
      'The right payload with a bech32 (BIP-173) checksum instead of bech32m.',
      raw(good, 'hansa', bech32),
    ],
    ['format-2', 'Format byte 2.', raw(payload(2, ['wss://a.example']))],
    ['no-urls', 'Zero URLs.', raw(payload(1, []))],
    ['http-url', 'An https:// URL.', raw(payload(1, ['https://a.example']))],
    ['trailing-bytes', 'Bytes after the last URL.', raw(payload(1, ['wss://a.example'], [0]))],
    ['truncated', 'Cut inside the federation id.', raw(good.subarray(0, 20))],
    [
      'bad-utf8',
      'A URL that is not UTF-8.',
      raw(Uint8Array.from([...payload(1, ['wss://a.example']).subarray(0, 34), 0, 2, 0xc3, 0x28])),
    ],
    ['whitespace', 'A trailing line break.', `${base}\n`],
    [
      'bad-character',
      'The letter "b", which bech32 does not use.',
      `${base.slice(0, 12)}b${base.slice(13)}`,
    ],
  ].map(([name, description, code]) => ({ name, description, code, error: 'HANSA_INVITE_INVALID' }))
  return {
    description:
      'Hansa invite codes: bech32m (BIP-350), prefix "hansa", at most 1023 characters. Payload: format byte 1, ' +
      'the 32-byte federation id, the number of URLs (1..255), then per URL a 2-byte big-endian length and its UTF-8 bytes; ' +
      'nothing after. URLs are ws:// or wss://. Decoders accept an all-uppercase code.',
    valid,
    invalid,
  }
}

function canonicalVectors() {
  // Inputs are JSON texts: parse them, canonicalize, compare with `canonical`.
  const cases = [
    ['key-order', '{"b":2,"a":1,"c":{"z":[3,{"y":1,"x":2}],"a":null}}'],
    [
      'utf16-key-order',
      '{"\\u20ac":"euro","\\r":"cr","\\ufb33":"dalet","1":"one","\\ud83d\\ude00":"smiley","\\u0080":"ctrl","\\u00f6":"o"}',
    ],
    [
      'numbers',
      '[1E30, 4.50, 2e-3, 0.000001, 1e-7, -0, 333333333.33333329, 1e21, 1e20, 123456789012345680000]',
    ],
    ['string-escapes', '"\\u0000\\u001f\\u007f\\"\\\\\\/\\b\\f\\n\\r\\t\\u20ac\\ud83d\\ude00"'],
    ['literals', '[true,false,null,"",[],{}]'],
    ['whitespace', ' { "a" : [ 1 , 2 ] ,\n "b" : "x y" } '],
  ]
  return {
    description:
      'RFC 8785 (JSON Canonicalization Scheme): JSON.parse(input), canonicalize, compare with canonical ' +
      '(a string; its UTF-8 bytes are what is hashed).',
    cases: cases.map(([name, input]) => ({
      name,
      input,
      canonical: canonicalJson(JSON.parse(input)),
    })),
  }
}

export function buildVectors() {
  return {
    'manifest-chain.json': chainVectors(),
    'invite-codes.json': inviteVectors(),
    'canonical-json.json': canonicalVectors(),
  }
}

/** The exact text each vector file holds. */
export function vectorFileText(vectors) {
  return `${JSON.stringify(vectors, null, 2)}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = new URL('../vectors/', import.meta.url)
  for (const [file, vectors] of Object.entries(buildVectors())) {
    writeFileSync(new URL(file, dir), vectorFileText(vectors))
    console.log(`wrote ${fileURLToPath(new URL(file, dir))}`)
  }
}
