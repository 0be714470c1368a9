// Generates the paid-access test vectors in packages/protocol/vectors/ from deterministic keys
// (each secret key is sha256("hansa test vector key: <name>"); ECDSA signatures are RFC 6979
// deterministic, BIP-340 aux randomness is 32 zero bytes), so every run writes the same bytes
// and other implementations can check against them:
//   cheques.json   EIP-712 cheques: typed-data digests, signatures and signers, then receiver
//                  checks, each with what the receiver knows and the verdict (increment or code)
//   terms.json     signed terms (valid, with their hash) and invalid terms with the first issue
//   dev-tax.json   payment sequences split into income and dev tax with the carry rule
// Run after `npm run build`:  node packages/protocol/scripts/generate-billing-vectors.mjs
//                             npx biome format --write packages/protocol/vectors
// test/billing-vectors.test.ts regenerates them in memory and fails if the files hold others.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import {
  checkCheque,
  chequeDigest,
  ethereumAddress,
  nostrPublicKey,
  signCheque,
  signTerms,
  splitPayment,
  termsHash,
  termsIssues,
} from '../dist/index.js'

const AUX = new Uint8Array(32)
const CHAIN = 31337
const secretKey = (name) => sha256(new TextEncoder().encode(`hansa test vector key: ${name}`))
const keyOf = (name) => ({
  name,
  secretKey: bytesToHex(secretKey(name)),
  pubkey: nostrPublicKey(secretKey(name)),
  address: ethereumAddress(secretKey(name)),
})

async function chequeVectors() {
  const alice = keyOf('alice')
  const mallory = keyOf('mallory')
  const node = keyOf('node')
  const other = keyOf('other node')
  const cheque = (from, payout, extra = {}) => ({
    chequebook: from.address,
    beneficiary: node.address,
    cumulativePayout: BigInt(payout),
    chainId: CHAIN,
    ...extra,
  })
  const signed = []
  for (const [description, signer, content] of [
    ['alice pays the node 10000 in total', alice, cheque(alice, 10000)],
    ['alice raises her cumulative payout to 25000', alice, cheque(alice, 25000)],
    ['a payout of 2^256 - 1', alice, cheque(alice, (1n << 256n) - 1n)],
    ['mallory signs a cheque naming alice as the chequebook', mallory, cheque(alice, 10000)],
    ['alice pays another node', alice, { ...cheque(alice, 10000), beneficiary: other.address }],
    ['alice signs for chain 1', alice, { ...cheque(alice, 10000), chainId: 1 }],
  ]) {
    const wire = await signCheque(content, signer.secretKey)
    signed.push({
      description,
      signer: signer.name,
      cheque: wire,
      digest: await chequeDigest(content),
    })
  }
  const byDesc = (prefix) => signed.find((s) => s.description.startsWith(prefix)).cheque
  const first = byDesc('alice pays the node 10000')
  const second = byDesc('alice raises')
  const firstDigest = signed[0].digest
  const knows = (last, credited = []) => ({
    beneficiary: node.address,
    chainId: CHAIN,
    issuer: alice.address,
    issuerPubkey: alice.pubkey,
    lastCumulativePayout: String(last),
    credited,
  })
  const checks = [
    ['a first cheque is credited in full', first, knows(0)],
    ['a later cheque is credited its rise', second, knows(10000, [firstDigest])],
    ['the same cheque again is a replay', first, knows(10000, [firstDigest])],
    ['an older cheque is not increasing', first, knows(25000, [])],
    ['a cheque signed by another key', byDesc('mallory'), knows(0)],
    ['a cheque for another beneficiary', byDesc('alice pays another'), knows(0)],
    ['a cheque for another chain', byDesc('alice signs for chain 1'), knows(0)],
    ['a cheque whose payout is a number', { ...first, cumulativePayout: 10000 }, knows(0)],
    ['a cheque with a leading zero', { ...first, cumulativePayout: '010000' }, knows(0)],
    [
      'a cheque with a short signature',
      { ...first, signature: first.signature.slice(0, 66) },
      knows(0),
    ],
    ['a cheque with an unknown field', { ...first, memo: 'hi' }, knows(0)],
    ['a cheque with a bad address', { ...first, chequebook: '0x1234' }, knows(0)],
    [
      'a cheque whose signature does not recover',
      { ...first, signature: `0x${'00'.repeat(65)}` },
      knows(0),
    ],
  ]
  const out = []
  for (const [description, value, k] of checks) {
    const verdict = await checkCheque(value, {
      ...k,
      lastCumulativePayout: BigInt(k.lastCumulativePayout),
      isCredited: (d) => k.credited.includes(d),
    })
    out.push({
      description,
      cheque: value,
      receiver: k,
      result: verdict.ok
        ? { ok: true, increment: verdict.increment.toString(), digest: verdict.digest }
        : { ok: false, code: verdict.error.code },
    })
  }
  return {
    description:
      'Hansa cheques: EIP-712 Cheque(address chequebook,address beneficiary,uint256 cumulativePayout), domain { name "Hansa Chequebook", version "1", chainId, verifyingContract = chequebook }. Keys are sha256("hansa test vector key: <name>"); signatures are RFC 6979 deterministic.',
    keys: [alice, mallory, node, other].map(({ name, pubkey, address, secretKey }) => ({
      name,
      secretKey,
      pubkey,
      address,
    })),
    signed,
    checks: out,
  }
}

function termsVectors() {
  const node = keyOf('node')
  const terms = {
    hansa: 1,
    node: node.pubkey,
    issuedAt: 1795000000,
    services: {
      inbox: {
        access: 'subscription',
        unit: 'msat',
        price: '30000',
        periodSeconds: 2592000,
        maxPeriods: 12,
        maxPubkeys: 10,
      },
      orderbook: {
        access: 'metered',
        unit: 'msat',
        prices: { query: '10', event: '20', kilobyte: '5' },
        paymentThreshold: '10000',
        disconnectThreshold: '12500',
        swap: 'mock',
      },
    },
    settlement: { rails: ['ledger'], beneficiary: node.address, chainId: CHAIN },
    devTax: { rateBps: 2000, recipient: null },
  }
  const signed = signTerms(terms, node.secretKey, { auxRand: AUX })
  const invalid = [
    [
      'a negative price',
      { ...terms, services: { inbox: { ...terms.services.inbox, price: '-1' } } },
    ],
    [
      'a price as a number',
      { ...terms, services: { inbox: { ...terms.services.inbox, price: 30000 } } },
    ],
    [
      'a disconnect threshold below payment threshold plus a price',
      {
        ...terms,
        services: { orderbook: { ...terms.services.orderbook, disconnectThreshold: '10010' } },
      },
    ],
    ['an unknown access mode', { ...terms, services: { inbox: { access: 'donation' } } }],
    ['a dev tax as a fraction', { ...terms, devTax: { rateBps: 0.2, recipient: null } }],
    ['no rails', { ...terms, settlement: { ...terms.settlement, rails: [] } }],
  ].map(([description, value]) => ({
    description,
    terms: value,
    firstIssue: termsIssues(value)[0],
  }))
  return {
    description:
      'Hansa signed terms: BIP-340 signature by terms.node of sha256(RFC 8785 canonical bytes of terms); aux randomness 32 zero bytes.',
    valid: [
      {
        description: 'an inbox on subscription and a metered order book',
        signed,
        hash: termsHash(terms),
      },
    ],
    invalid,
  }
}

function devTaxVectors() {
  const runs = [
    { rateBps: 2000, payments: ['10000', '1', '2', '3', '4', '5', '7'] },
    { rateBps: 0, payments: ['99', '1'] },
    { rateBps: 1234, payments: ['1', '1', '1', '1', '1', '1', '1', '1', '1', '1'] },
    { rateBps: 10000, payments: ['5', '0', '17'] },
  ]
  return {
    description:
      'Dev tax split: devTax = floor((amount * rateBps + carry) / 10000), carry = the remainder, income = amount - devTax.',
    runs: runs.map(({ rateBps, payments }) => {
      let carry = 0n
      const splits = payments.map((p) => {
        const s = splitPayment(BigInt(p), rateBps, carry)
        carry = s.carry
        return {
          amount: p,
          income: s.income.toString(),
          devTax: s.devTax.toString(),
          carry: s.carry.toString(),
        }
      })
      return { rateBps, splits }
    }),
  }
}

export async function buildBillingVectors() {
  return {
    'cheques.json': await chequeVectors(),
    'terms.json': termsVectors(),
    'dev-tax.json': devTaxVectors(),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const vectors = await buildBillingVectors()
  for (const [file, value] of Object.entries(vectors)) {
    const path = fileURLToPath(new URL(`../vectors/${file}`, import.meta.url))
    writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
    process.stdout.write(`wrote ${path}\n`)
  }
}
