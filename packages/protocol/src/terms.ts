// A node's terms: what each of its services costs, signed by the node key (DESIGN.md "Paid
// access"). The format is docs/paid-access.md's; in short:
//
//   { "hansa": 1, "node": "<node pubkey>", "issuedAt": 1795000000,
//     "services": {
//       "inbox": { "access": "subscription", "unit": "msat", "price": "30000",
//                  "periodSeconds": 2592000, "maxPeriods": 12, "maxPubkeys": 10 },
//       "orderbook": { "access": "free" } },
//     "settlement": { "rails": ["ledger"], "beneficiary": "0x…", "chainId": 31337 },
//     "devTax": { "rateBps": 2000, "recipient": null } }
//
// A metered service reads { "access": "metered", "unit", "prices": { "query", "event",
// "kilobyte" }, "paymentThreshold", "disconnectThreshold", "swap": "soft" | "mock" | "hard" }.
// Amounts are decimal strings of base units (money.ts). A service the terms do not name is
// free. Fields a reader does not know are ignored (and still covered by the signature).
//
// Signed terms are { "terms": …, "sig": "<hex>" }: a BIP-340 signature by `terms.node` of the
// sha256 of the terms' RFC 8785 canonical bytes, as a guardian signs a manifest.
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { TermsInvalidError, type TermsIssue, TermsSignatureError } from './billing-errors.js'
import { canonicalBytes } from './canonical-json.js'
import { isEthereumAddress } from './address.js'
import { bytesToHex, isLowerHex, lowerHexToBytes } from './hex.js'
import { isAmountString, isBps } from './money.js'

export const TERMS_FORMAT = 1
export const ACCESS_MODES = ['free', 'subscription', 'metered'] as const
export type AccessMode = (typeof ACCESS_MODES)[number]
/** SWAP's three phases: account only; cheques checked and credited, never cashed; cashed on chain. */
export const SWAP_MODES = ['soft', 'mock', 'hard'] as const
export type SwapMode = (typeof SWAP_MODES)[number]
/** Settlement rails: `ledger` is built; `evm` and `lightning` have their place (docs/paid-access.md). */
export const RAIL_NAMES = ['ledger', 'evm', 'lightning'] as const
export type RailName = (typeof RAIL_NAMES)[number]

export type FreeTerms = { access: 'free' }

export type SubscriptionTerms = {
  access: 'subscription'
  unit: string
  /** Price of one period, in base units of `unit`. */
  price: string
  periodSeconds: number
  /** Most periods one payment buys. */
  maxPeriods: number
  /** Most pubkeys one subscription covers (the owner's app keys). */
  maxPubkeys: number
}

export type MeteredPrices = {
  /** Per REQ or COUNT answered. */
  query: string
  /** Per event stored. */
  event: string
  /** Per 1024 bytes of events stored or served (rounded up, see swap-ledger.ts). */
  kilobyte: string
}

export type MeteredTerms = {
  access: 'metered'
  unit: string
  prices: MeteredPrices
  /** The client pays (a cheque) once it owes this much. */
  paymentThreshold: string
  /** The node refuses a peer who owes more than this. */
  disconnectThreshold: string
  swap: SwapMode
}

export type ServiceTerms = FreeTerms | SubscriptionTerms | MeteredTerms

export type Settlement = {
  rails: RailName[]
  /** The node's Ethereum address: cheques name it as their beneficiary. */
  beneficiary: string
  /** EIP-712 domain chain id of the cheques this node takes. */
  chainId: number
  /** On the `evm` rail: the token prices are paid in and the contracts to pay through. */
  evm?: EvmSettlement
}

export type EvmSettlement = {
  token: string
  router: string
  /** Chequebooks deployed by this factory are taken (hard mode); null: no cheques. */
  chequebookFactory: string | null
  registry: string | null
  confirmations: number
}

export type DevTax = {
  /** Share of every payment booked for the dev fund, in basis points (2000 = 20 %). */
  rateBps: number
  /** The dev fund's address or pubkey, when known (from the federation manifest). */
  recipient: string | null
}

export type Terms = {
  hansa: 1
  node: string
  issuedAt: number
  services: Record<string, ServiceTerms>
  settlement: Settlement
  devTax: DevTax
}

export type SignedTerms = { terms: Terms; sig: string }

/** The most a subscription may cover, as a guard against typos. */
export const TERMS_LIMITS = { maxPeriods: 1000, maxPubkeys: 1000, unitLength: 16 } as const

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,31}$/
const UNIT = /^[A-Za-z][A-Za-z0-9_-]{0,15}$/

type Issues = TermsIssue[]
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isWhole = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max

function amount(v: unknown, path: string, issues: Issues, positive = false): bigint | undefined {
  if (!isAmountString(v)) {
    issues.push({ path, message: 'must be an amount: a string of decimal digits (base units)' })
    return undefined
  }
  const n = BigInt(v)
  if (positive && n === 0n) issues.push({ path, message: 'must be more than 0' })
  return n
}

function checkUnit(v: unknown, path: string, issues: Issues): void {
  if (typeof v !== 'string' || !UNIT.test(v)) {
    issues.push({ path, message: 'must name a unit: a letter then up to 15 letters or digits' })
  }
}

function checkService(v: unknown, path: string, issues: Issues): void {
  if (!isObject(v)) {
    issues.push({ path, message: 'must be an object' })
    return
  }
  switch (v.access) {
    case 'free':
      return
    case 'subscription':
      checkUnit(v.unit, `${path}.unit`, issues)
      amount(v.price, `${path}.price`, issues, true)
      if (!isWhole(v.periodSeconds, 1)) {
        issues.push({ path: `${path}.periodSeconds`, message: 'must be a whole number ≥ 1' })
      }
      if (!isWhole(v.maxPeriods, 1, TERMS_LIMITS.maxPeriods)) {
        issues.push({
          path: `${path}.maxPeriods`,
          message: `must be a whole number from 1 to ${TERMS_LIMITS.maxPeriods}`,
        })
      }
      if (!isWhole(v.maxPubkeys, 1, TERMS_LIMITS.maxPubkeys)) {
        issues.push({
          path: `${path}.maxPubkeys`,
          message: `must be a whole number from 1 to ${TERMS_LIMITS.maxPubkeys}`,
        })
      }
      return
    case 'metered': {
      checkUnit(v.unit, `${path}.unit`, issues)
      let largest: bigint | undefined = 0n
      if (!isObject(v.prices)) issues.push({ path: `${path}.prices`, message: 'must be an object' })
      else {
        for (const name of ['query', 'event', 'kilobyte'] as const) {
          const p = amount(v.prices[name], `${path}.prices.${name}`, issues)
          if (p === undefined) largest = undefined
          else if (largest !== undefined && name !== 'kilobyte' && p > largest) largest = p
        }
      }
      const pay = amount(v.paymentThreshold, `${path}.paymentThreshold`, issues, true)
      const cut = amount(v.disconnectThreshold, `${path}.disconnectThreshold`, issues, true)
      // A client that pays whenever it owes the payment threshold must never be refused:
      // it owes at most paymentThreshold - 1 before a request of at most `largest` base price.
      if (pay !== undefined && cut !== undefined && largest !== undefined) {
        if (cut < pay + largest) {
          issues.push({
            path: `${path}.disconnectThreshold`,
            message:
              'must be at least paymentThreshold plus the largest of prices.query and prices.event',
          })
        }
      }
      if (!(SWAP_MODES as readonly unknown[]).includes(v.swap)) {
        issues.push({ path: `${path}.swap`, message: `must be one of ${SWAP_MODES.join(', ')}` })
      }
      return
    }
    default:
      issues.push({
        path: `${path}.access`,
        message: `must be one of ${ACCESS_MODES.join(', ')}`,
      })
  }
}

function collectTermsIssues(value: unknown, issues: Issues): void {
  if (!isObject(value)) {
    issues.push({ path: '', message: 'terms must be a JSON object' })
    return
  }
  if (value.hansa !== TERMS_FORMAT) {
    issues.push({ path: 'hansa', message: `must be ${TERMS_FORMAT} (the terms format)` })
  }
  if (!isLowerHex(value.node, 32)) {
    issues.push({ path: 'node', message: "must be the node's pubkey: 64 lowercase hex characters" })
  }
  if (!isWhole(value.issuedAt, 0)) {
    issues.push({ path: 'issuedAt', message: 'must be unix seconds (a whole number ≥ 0)' })
  }
  if (!isObject(value.services)) {
    issues.push({ path: 'services', message: 'must be an object of service name → terms' })
  } else {
    for (const [name, s] of Object.entries(value.services)) {
      if (!SERVICE_NAME.test(name)) {
        issues.push({
          path: `services.${name}`,
          message: 'a service name is a lowercase letter then up to 31 of a-z, 0-9, -',
        })
      }
      checkService(s, `services.${name}`, issues)
    }
  }
  const st = value.settlement
  if (!isObject(st)) issues.push({ path: 'settlement', message: 'must be an object' })
  else {
    if (
      !Array.isArray(st.rails) ||
      st.rails.length === 0 ||
      !st.rails.every((r) => (RAIL_NAMES as readonly unknown[]).includes(r)) ||
      new Set(st.rails).size !== st.rails.length
    ) {
      issues.push({
        path: 'settlement.rails',
        message: `must list one or more of ${RAIL_NAMES.join(', ')}, each once`,
      })
    }
    if (!isEthereumAddress(st.beneficiary)) {
      issues.push({ path: 'settlement.beneficiary', message: 'must be an Ethereum address' })
    }
    if (!isWhole(st.chainId, 1)) {
      issues.push({ path: 'settlement.chainId', message: 'must be a whole number ≥ 1' })
    }
    if (st.evm !== undefined) {
      const evm = st.evm
      if (!isObject(evm)) issues.push({ path: 'settlement.evm', message: 'must be an object' })
      else {
        for (const field of ['token', 'router'] as const) {
          if (!isEthereumAddress(evm[field])) {
            issues.push({ path: `settlement.evm.${field}`, message: 'must be an Ethereum address' })
          }
        }
        for (const field of ['chequebookFactory', 'registry'] as const) {
          if (evm[field] !== null && !isEthereumAddress(evm[field])) {
            issues.push({
              path: `settlement.evm.${field}`,
              message: 'must be an Ethereum address or null',
            })
          }
        }
        if (!isWhole(evm.confirmations, 1)) {
          issues.push({
            path: 'settlement.evm.confirmations',
            message: 'must be a whole number ≥ 1',
          })
        }
      }
    }
  }
  const tax = value.devTax
  if (!isObject(tax)) issues.push({ path: 'devTax', message: 'must be an object' })
  else {
    if (!isBps(tax.rateBps)) {
      issues.push({
        path: 'devTax.rateBps',
        message: 'must be whole basis points from 0 to 10000',
      })
    }
    if (tax.recipient !== null && (typeof tax.recipient !== 'string' || tax.recipient === '')) {
      issues.push({ path: 'devTax.recipient', message: 'must be null or a non-empty string' })
    }
  }
}

/** Every structural problem with `value` as terms; empty when it is valid. */
export function termsIssues(value: unknown): TermsIssue[] {
  const issues: Issues = []
  collectTermsIssues(value, issues)
  return issues
}

export const isTerms = (value: unknown): value is Terms => termsIssues(value).length === 0

/** sha256 of the terms' canonical bytes, lowercase hex: what the node signs. */
export function termsHash(terms: Terms): string {
  return bytesToHex(sha256(canonicalBytes(terms)))
}

/** The terms of one service; a service the terms do not name is free. */
export function serviceTerms(terms: Terms, service: string): ServiceTerms {
  return Object.hasOwn(terms.services, service) ? terms.services[service]! : { access: 'free' }
}

function secretKeyBytes(secretKey: Uint8Array | string): Uint8Array {
  const bytes =
    typeof secretKey === 'string'
      ? isLowerHex(secretKey, 32)
        ? lowerHexToBytes(secretKey)
        : undefined
      : secretKey
  if (bytes?.length !== 32 || !secp256k1.utils.isValidSecretKey(bytes)) {
    throw new TypeError('a secret key is 32 bytes or 64 lowercase hex characters on secp256k1')
  }
  return bytes
}

/**
 * Signs terms with the node's key. Throws TermsInvalidError for malformed terms and TypeError
 * when the key is not the one `terms.node` names (a node signs only its own terms).
 */
export function signTerms(
  terms: Terms,
  secretKey: Uint8Array | string,
  options: { auxRand?: Uint8Array } = {},
): SignedTerms {
  const issues = termsIssues(terms)
  if (issues.length > 0) throw new TermsInvalidError(issues)
  const key = secretKeyBytes(secretKey)
  if (bytesToHex(schnorr.getPublicKey(key)) !== terms.node) {
    throw new TypeError('terms.node must be the pubkey of the signing key')
  }
  const hash = sha256(canonicalBytes(terms))
  return { terms, sig: bytesToHex(schnorr.sign(hash, key, options.auxRand)) }
}

/**
 * Checks signed terms: their shape, and a valid signature by the node they name. Returns the
 * terms, or the error (TermsInvalidError, TermsSignatureError) without throwing. Pass
 * `node` to also require a particular node's key.
 */
export function verifySignedTerms(
  value: unknown,
  expected: { node?: string } = {},
): { ok: true; terms: Terms } | { ok: false; error: TermsInvalidError | TermsSignatureError } {
  if (!isObject(value)) {
    return {
      ok: false,
      error: new TermsInvalidError([{ path: '', message: 'signed terms are { terms, sig }' }]),
    }
  }
  const issues = termsIssues(value.terms).map((i) => ({
    path: i.path === '' ? 'terms' : `terms.${i.path}`,
    message: i.message,
  }))
  if (!isLowerHex(value.sig, 64)) {
    issues.push({ path: 'sig', message: 'must be 128 lowercase hex characters (BIP-340)' })
  }
  if (issues.length > 0) return { ok: false, error: new TermsInvalidError(issues) }
  const terms = value.terms as Terms
  if (expected.node !== undefined && terms.node !== expected.node) {
    return { ok: false, error: new TermsSignatureError(terms.node) }
  }
  let valid = false
  try {
    valid = schnorr.verify(
      lowerHexToBytes(value.sig as string),
      sha256(canonicalBytes(terms)),
      lowerHexToBytes(terms.node),
    )
  } catch {
    valid = false
  }
  return valid ? { ok: true, terms } : { ok: false, error: new TermsSignatureError(terms.node) }
}
