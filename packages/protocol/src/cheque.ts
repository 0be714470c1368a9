// Cheques: a client's signed promise of a cumulative payout to a node, as EIP-712 typed data —
// Swarm Bee's chequebook cheque, which the SWAP accounting of the Waku store reused:
//
//   domain  { name: "Hansa Chequebook", version: "1", chainId, verifyingContract: chequebook }
//   Cheque(address chequebook, address beneficiary, uint256 cumulativePayout)
//
// signed with the client's secp256k1 key (ECDSA over the EIP-712 digest, 65 bytes r‖s‖v), so
// the same key that signs her Nostr events signs her cheques. `chequebook` is the account the
// payout comes from: a chequebook contract on the `evm` rail (whose owner signs), the issuer's
// own address on the `ledger` rail. Wire form (JSON):
//
//   { "chequebook": "0x…", "beneficiary": "0x…", "cumulativePayout": "12500",
//     "chainId": 31337, "signature": "0x<130 hex>" }
//
// `checkCheque` runs every check a receiver makes, in this order, and names the first that
// fails: malformed → chain → beneficiary → signer (issuer) → replay → not increasing. The
// receiver passes in what it knows (the issuer's address, the last credited payout, the
// digests already credited); nothing here keeps state.
//
// Signing goes through viem's signTypedData (what wallets do; loaded on first use, so importing
// this package stays cheap). A receiver's work is on the node's event loop, so the digest is
// computed here for this one struct with keccak-256 (a few microseconds where viem's general
// encoder takes milliseconds) and the key recovered with @noble/curves; the vectors, made with
// viem, pin both to viem's results.
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { ChequeError } from './billing-errors.js'
import { addressOfPublicKey, isEthereumAddress } from './address.js'
import { bytesToHex, isLowerHex } from './hex.js'
import { isAmountString } from './money.js'

export const CHEQUE_DOMAIN_NAME = 'Hansa Chequebook'
export const CHEQUE_DOMAIN_VERSION = '1'
export const CHEQUE_TYPES = {
  Cheque: [
    { name: 'chequebook', type: 'address' },
    { name: 'beneficiary', type: 'address' },
    { name: 'cumulativePayout', type: 'uint256' },
  ],
} as const

/** A cheque's content (what is signed). Addresses in any case; compared case-insensitively. */
export type Cheque = {
  chequebook: string
  beneficiary: string
  cumulativePayout: bigint
  chainId: number
}

/** A cheque as sent on the wire: amounts as decimal strings, with its signature. */
export type SignedCheque = {
  chequebook: string
  beneficiary: string
  cumulativePayout: string
  chainId: number
  signature: string
}

export type ChequeSigner = {
  /** EIP-55 address of the key that signed. */
  address: string
  /** The same key as a Nostr pubkey (x-only, lowercase hex). */
  pubkey: string
}

type Hex = `0x${string}`
let viemAccounts: Promise<typeof import('viem/accounts')> | undefined
const accounts = () => {
  viemAccounts ??= import('viem/accounts')
  return viemAccounts
}

const SIGNATURE = /^0x[0-9a-fA-F]{130}$/
const FIELDS = ['chequebook', 'beneficiary', 'cumulativePayout', 'chainId', 'signature']
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Why `value` is not a wire cheque (first problem, in words), or null when it is one. */
export function chequeShapeError(value: unknown): string | null {
  if (!isObject(value)) return 'a cheque is a JSON object'
  for (const key of Object.keys(value)) {
    if (!FIELDS.includes(key)) return `unknown field "${key}" (a cheque has ${FIELDS.join(', ')})`
  }
  if (!isEthereumAddress(value.chequebook)) return 'chequebook must be an Ethereum address'
  if (!isEthereumAddress(value.beneficiary)) return 'beneficiary must be an Ethereum address'
  if (!isAmountString(value.cumulativePayout)) {
    return 'cumulativePayout must be a string of decimal digits (base units, at most 2^256 - 1)'
  }
  if (
    typeof value.chainId !== 'number' ||
    !Number.isSafeInteger(value.chainId) ||
    value.chainId < 1
  ) {
    return 'chainId must be a whole number ≥ 1'
  }
  if (typeof value.signature !== 'string' || !SIGNATURE.test(value.signature)) {
    return 'signature must be 0x and 130 hex digits (65 bytes: r, s, v)'
  }
  return null
}

/** The EIP-712 typed data of a cheque, as viem and wallets (eth_signTypedData_v4) take it. */
export function chequeTypedData(cheque: Cheque) {
  return {
    domain: {
      name: CHEQUE_DOMAIN_NAME,
      version: CHEQUE_DOMAIN_VERSION,
      chainId: cheque.chainId,
      verifyingContract: cheque.chequebook.toLowerCase() as Hex,
    },
    types: CHEQUE_TYPES,
    primaryType: 'Cheque' as const,
    message: {
      chequebook: cheque.chequebook.toLowerCase() as Hex,
      beneficiary: cheque.beneficiary.toLowerCase() as Hex,
      cumulativePayout: cheque.cumulativePayout,
    },
  }
}

const utf8 = (text: string) => new TextEncoder().encode(text)
const DOMAIN_TYPE_HASH = keccak_256(
  utf8('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'),
)
const CHEQUE_TYPE_HASH = keccak_256(
  utf8('Cheque(address chequebook,address beneficiary,uint256 cumulativePayout)'),
)
const NAME_HASH = keccak_256(utf8(CHEQUE_DOMAIN_NAME))
const VERSION_HASH = keccak_256(utf8(CHEQUE_DOMAIN_VERSION))

/** A uint256 or an address as one 32-byte ABI word. */
function word(value: bigint | string): Uint8Array {
  const out = new Uint8Array(32)
  let n = typeof value === 'bigint' ? value : BigInt(value) // an address: 0x + 40 hex
  for (let i = 31; i >= 0 && n > 0n; i--) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

function digestBytes(cheque: Cheque): Uint8Array {
  const domain = keccak_256(
    concat(
      DOMAIN_TYPE_HASH,
      NAME_HASH,
      VERSION_HASH,
      word(BigInt(cheque.chainId)),
      word(cheque.chequebook),
    ),
  )
  const struct = keccak_256(
    concat(
      CHEQUE_TYPE_HASH,
      word(cheque.chequebook),
      word(cheque.beneficiary),
      word(cheque.cumulativePayout),
    ),
  )
  return keccak_256(concat(new Uint8Array([0x19, 0x01]), domain, struct))
}

/** The EIP-712 digest a cheque's signature signs (0x and 64 lowercase hex digits). */
export function chequeDigest(cheque: Cheque): string {
  return `0x${bytesToHex(digestBytes(cheque))}`
}

/** The content of a wire cheque; the caller has checked its shape. */
export const chequeOf = (signed: SignedCheque): Cheque => ({
  chequebook: signed.chequebook,
  beneficiary: signed.beneficiary,
  cumulativePayout: BigInt(signed.cumulativePayout),
  chainId: signed.chainId,
})

/** Signs a cheque with a secp256k1 secret key (32 bytes or 64 lowercase hex characters). */
export async function signCheque(
  cheque: Cheque,
  secretKey: Uint8Array | string,
): Promise<SignedCheque> {
  const hex = typeof secretKey === 'string' ? secretKey : bytesToHex(secretKey)
  if (!isLowerHex(hex, 32)) throw new TypeError('a secret key is 32 bytes or 64 lowercase hex')
  const { signTypedData } = await accounts()
  const signature = await signTypedData({ privateKey: `0x${hex}`, ...chequeTypedData(cheque) })
  return {
    chequebook: cheque.chequebook,
    beneficiary: cheque.beneficiary,
    cumulativePayout: cheque.cumulativePayout.toString(),
    chainId: cheque.chainId,
    signature,
  }
}

/** The key that signed `digest` with a 65-byte r‖s‖v signature, or null. */
function recoverFrom(digest: Uint8Array, signature: string): ChequeSigner | null {
  try {
    const bytes = new Uint8Array(65)
    for (let i = 0; i < 65; i++)
      bytes[i] = Number.parseInt(signature.slice(2 + i * 2, 4 + i * 2), 16)
    const v = bytes[64]!
    const recovery = v >= 27 ? v - 27 : v
    if (recovery !== 0 && recovery !== 1) return null
    const noble = new Uint8Array(65) // @noble/curves' recovered form: recovery, r, s
    noble[0] = recovery
    noble.set(bytes.subarray(0, 64), 1)
    const point = secp256k1.Signature.fromBytes(noble, 'recovered').recoverPublicKey(digest)
    const uncompressed = point.toBytes(false)
    return {
      address: addressOfPublicKey(uncompressed),
      pubkey: bytesToHex(uncompressed.subarray(1, 33)),
    }
  } catch {
    return null
  }
}

/** The key that signed a (well-formed) cheque; null when no key recovers from the signature. */
export async function recoverChequeSigner(signed: SignedCheque): Promise<ChequeSigner | null> {
  return recoverFrom(digestBytes(chequeOf(signed)), signed.signature)
}

/** What a receiver knows when it checks a cheque. */
export type ChequeExpectation = {
  /** Its own address: the only beneficiary it takes. */
  beneficiary: string
  chainId: number
  /** The address allowed to sign for this chequebook (ledger rail: the chequebook itself). */
  issuer: string
  /** When set, the signing key must also be this Nostr pubkey (the authenticated payer). */
  issuerPubkey?: string
  /** The highest cumulative payout already credited from this chequebook (0n for none). */
  lastCumulativePayout: bigint
  /** Whether a cheque with this digest was already credited. */
  isCredited: (digest: string) => boolean
}

export type ChequeVerdict =
  | {
      ok: true
      cheque: Cheque
      signed: SignedCheque
      digest: string
      signer: ChequeSigner
      /** What this cheque adds: its payout minus the last credited. */
      increment: bigint
    }
  | { ok: false; error: ChequeError }

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
const short = (address: string) => `${address.slice(0, 10)}…`

/** Runs every check on a received cheque (see the header); never throws for bad input. */
export async function checkCheque(
  value: unknown,
  expected: ChequeExpectation,
): Promise<ChequeVerdict> {
  const fail = (code: ConstructorParameters<typeof ChequeError>[0], reason: string) => ({
    ok: false as const,
    error: new ChequeError(code, reason),
  })
  const shape = chequeShapeError(value)
  if (shape !== null) return fail('HANSA_CHEQUE_MALFORMED', shape)
  const signed = value as SignedCheque
  const cheque = chequeOf(signed)
  if (cheque.chainId !== expected.chainId) {
    return fail(
      'HANSA_CHEQUE_CHAIN',
      `the cheque is for chain ${cheque.chainId}; this node takes cheques for chain ${expected.chainId}`,
    )
  }
  if (!same(cheque.beneficiary, expected.beneficiary)) {
    return fail(
      'HANSA_CHEQUE_BENEFICIARY',
      `the cheque pays ${cheque.beneficiary}, not this node (${expected.beneficiary})`,
    )
  }
  const digestOfCheque = digestBytes(cheque)
  const signer = recoverFrom(digestOfCheque, signed.signature)
  if (signer === null) {
    return fail('HANSA_CHEQUE_MALFORMED', 'no key recovers from the signature')
  }
  if (!same(signer.address, expected.issuer)) {
    return fail(
      'HANSA_CHEQUE_SIGNER',
      `the cheque is signed by ${signer.address}, not by the issuer of chequebook ${short(cheque.chequebook)} (${expected.issuer})`,
    )
  }
  if (expected.issuerPubkey !== undefined && signer.pubkey !== expected.issuerPubkey) {
    return fail(
      'HANSA_CHEQUE_SIGNER',
      `the cheque is signed by ${signer.address}, not by the key you authenticated as (${expected.issuerPubkey.slice(0, 16)}…)`,
    )
  }
  const digest = `0x${bytesToHex(digestOfCheque)}`
  if (expected.isCredited(digest)) {
    return fail(
      'HANSA_CHEQUE_REPLAY',
      `this cheque (cumulative payout ${signed.cumulativePayout}) was already credited`,
    )
  }
  if (cheque.cumulativePayout <= expected.lastCumulativePayout) {
    return fail(
      'HANSA_CHEQUE_NOT_INCREASING',
      `cumulative payout ${cheque.cumulativePayout} does not exceed the ${expected.lastCumulativePayout} already credited from chequebook ${short(cheque.chequebook)}; cheques are cumulative`,
    )
  }
  return {
    ok: true,
    cheque,
    signed,
    digest,
    signer,
    increment: cheque.cumulativePayout - expected.lastCumulativePayout,
  }
}
