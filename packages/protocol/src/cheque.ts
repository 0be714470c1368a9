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
// digests already credited); nothing here keeps state. viem does the EIP-712 hashing and the
// signature recovery; it is loaded on first use, so importing this package stays cheap.
import { ChequeError } from './billing-errors.js'
import { isEthereumAddress, isLowerHex } from './hex.js'
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
let viemUtils: Promise<typeof import('viem/utils')> | undefined
let viemAccounts: Promise<typeof import('viem/accounts')> | undefined
const utils = () => {
  viemUtils ??= import('viem/utils')
  return viemUtils
}
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

/** The EIP-712 digest a cheque's signature signs (0x and 64 lowercase hex digits). */
export async function chequeDigest(cheque: Cheque): Promise<string> {
  return (await utils()).hashTypedData(chequeTypedData(cheque))
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
  const hex = typeof secretKey === 'string' ? secretKey : bytesHex(secretKey)
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

const bytesHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

/** The key that signed a (well-formed) cheque; null when no key recovers from the signature. */
export async function recoverChequeSigner(signed: SignedCheque): Promise<ChequeSigner | null> {
  const u = await utils()
  try {
    const digest = u.hashTypedData(chequeTypedData(chequeOf(signed)))
    const publicKey = await u.recoverPublicKey({ hash: digest, signature: signed.signature as Hex })
    return {
      address: u.publicKeyToAddress(publicKey),
      pubkey: publicKey.slice(4, 68).toLowerCase(),
    }
  } catch {
    return null
  }
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
  const signer = await recoverChequeSigner(signed)
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
  const digest = (await utils()).hashTypedData(chequeTypedData(cheque))
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
