// A node's paid-access API from the client's side (docs/paid-access.md): one function per
// route. The terms are checked before anything else uses them (signed by the node they name,
// and by the node asked, when its pubkey is known). Requests that need an identity carry
// NIP-98 auth signed with the caller's key; `now` may be passed in (tests run nodes on a
// clock of their own). A refusal becomes a NodeRequestError with the node's code
// (HANSA_CHEQUE_REPLAY, HANSA_QUOTE_EXPIRED, …) and its message.
import { type SignedCheque, type SignedTerms, type Terms, verifySignedTerms } from '@hansa/protocol'
import {
  NodeRequestError,
  type NodeRequestInit,
  type NodeRequestOptions,
  callNode,
  httpUrlOf,
} from './node-request.js'

export type BillingApiOptions = NodeRequestOptions

const call = <T>(
  nodeUrl: string,
  path: string,
  init: NodeRequestInit,
  options: BillingApiOptions = {},
): Promise<T> => callNode<T>(nodeUrl, path, init, options)

export type SubscriptionInfo = {
  id: string
  service: string
  owner: string
  pubkeys: string[]
  createdAt: number
  expiresAt: number
  expires: string
  active: boolean
}

export type SwapAccountInfo = {
  peer: string
  balance: string
  charged: string
  paid: string
  cumulativePayout: string
  requests: number
  bounds: 'within' | 'debt' | 'credit'
  paymentThreshold: string
  disconnectThreshold: string
  mode: 'soft' | 'mock' | 'hard'
}

export type PaymentInfo = {
  id: number
  at: number
  peer: string
  purpose: 'swap' | 'subscription'
  service: string | null
  rail: string
  reference: string
  unit: string
  amount: string
  income: string
  devTax: string
  rateBps: number
}

export type Quote = {
  quote: {
    id: string
    owner: string
    service: string
    periods: number
    amount: string
    unit: string
    pubkeys: string[]
    createdAt: number
    expiresAt: number
  }
  pay: {
    rail: string
    beneficiary: string
    chainId: number
    chequebook: string | null
    cumulativePayout: string
    lastCumulativePayout: string
  }
}

export type SubscriptionReceipt = {
  subscription: SubscriptionInfo
  payment: {
    periods: number
    amount: string
    unit: string
    devTax: string
    expiresBefore: number
    expiresAfter: number
    cumulativePayout: string
  }
}

export type ChequeReceipt = {
  credited: string
  unit: string
  devTax: string
  cumulativePayout: string
  account: SwapAccountInfo
}

export type AccountInfo = {
  pubkey: string
  unit: string
  swap: SwapAccountInfo | null
  chequebook: { address: string; cumulativePayout: string } | null
  subscriptions: SubscriptionInfo[]
  payments: PaymentInfo[]
  devTax: { rateBps: number; rate: string }
}

export type BillingReport = {
  node: string
  unit: string
  rail: string
  services: Record<string, string>
  devTax: { rateBps: number; rate: string; recipient: string | null }
  totals: {
    payments: number
    received: string
    income: string
    devTax: string
    devTaxPaid: string
    devTaxDue: string
    carry: string
  }
  swap: {
    mode: string
    paymentThreshold: string
    disconnectThreshold: string
    peers: SwapAccountInfo[]
    outOfBounds: Array<{ peer: string; direction: 'debt' | 'credit'; balance: string }>
  } | null
  subscriptions: { active: Record<string, number>; list: SubscriptionInfo[] }
  cheques: number
  /** The evm rail: its contracts, and (hard mode) what is uncashed, cashed and bounced. */
  settlement?: SettlementReport | null
  recentPayments: PaymentInfo[]
}

export type CashOutInfo = {
  tx: string
  chequebook: string
  cumulative: string
  paid: string
  devTax: string
  bounced: string
  gasUsed: string
  at: number
}

export type SettlementReport = {
  rail: 'evm'
  token: string
  router: string
  chequebookFactory: string | null
  registry: string | null
  confirmations: number
  cashOuts: {
    uncashed: string
    cashed: string
    cashedDevTax: string
    bounced: string
    chequebooks: Array<{
      chequebook: string
      cumulative: string
      cashed: string
      bounced: string
      status: string
      tx: string | null
      attempts: number
      lastError: string | null
    }>
    cashOuts: CashOutInfo[]
  } | null
}

/**
 * GET /terms, verified: signed by the node they name (and by `expectedNode` when given).
 * Throws NodeRequestError HANSA_TERMS_INVALID / HANSA_TERMS_SIGNATURE otherwise.
 */
export async function getTerms(
  nodeUrl: string,
  expectedNode?: string,
  options?: BillingApiOptions,
): Promise<{ terms: Terms; signed: SignedTerms }> {
  const signed = await call<unknown>(nodeUrl, '/terms', {}, options)
  const result = verifySignedTerms(signed, expectedNode === undefined ? {} : { node: expectedNode })
  if (!result.ok) {
    throw new NodeRequestError(
      result.error.code,
      200,
      `${httpUrlOf(nodeUrl)}/terms`,
      result.error.message,
    )
  }
  return { terms: result.terms, signed: signed as SignedTerms }
}

/** POST /subscriptions: a price for `periods` periods of `service`, and how to pay it. */
export function quoteSubscription(
  nodeUrl: string,
  request: { service: string; periods: number; pubkeys?: string[] },
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<Quote> {
  return call(nodeUrl, '/subscriptions', { method: 'POST', body: request, secretKey }, options)
}

/** POST /subscriptions/payments: pays a quote with a cheque (ledger rail). */
export function paySubscription(
  nodeUrl: string,
  quoteId: string,
  cheque: SignedCheque,
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<SubscriptionReceipt> {
  return call(
    nodeUrl,
    '/subscriptions/payments',
    { method: 'POST', body: { quote: quoteId, proof: { rail: 'ledger', cheque } }, secretKey },
    options,
  )
}

/** GET /subscriptions: the subscriptions that cover this key. */
export async function getSubscriptions(
  nodeUrl: string,
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<SubscriptionInfo[]> {
  return (
    await call<{ subscriptions: SubscriptionInfo[] }>(
      nodeUrl,
      '/subscriptions',
      { secretKey },
      options,
    )
  ).subscriptions
}

/** POST /subscriptions/:id/pubkeys: the owner adds one of her keys. */
export async function addSubscriptionKey(
  nodeUrl: string,
  subscriptionId: string,
  pubkey: string,
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<SubscriptionInfo> {
  return (
    await call<{ subscription: SubscriptionInfo }>(
      nodeUrl,
      `/subscriptions/${subscriptionId}/pubkeys`,
      { method: 'POST', body: { pubkey }, secretKey },
      options,
    )
  ).subscription
}

/** DELETE /subscriptions/:id/pubkeys/:pubkey: the owner removes a key (or a key itself). */
export async function removeSubscriptionKey(
  nodeUrl: string,
  subscriptionId: string,
  pubkey: string,
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<SubscriptionInfo> {
  return (
    await call<{ subscription: SubscriptionInfo }>(
      nodeUrl,
      `/subscriptions/${subscriptionId}/pubkeys/${pubkey}`,
      { method: 'DELETE', secretKey },
      options,
    )
  ).subscription
}

/** POST /cheques: pays the SWAP balance with a cumulative cheque. */
export function sendCheque(
  nodeUrl: string,
  cheque: SignedCheque,
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<ChequeReceipt> {
  return call(nodeUrl, '/cheques', { method: 'POST', body: { cheque }, secretKey }, options)
}

/** GET /account: this key's account on the node. */
export function getAccount(
  nodeUrl: string,
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<AccountInfo> {
  return call(nodeUrl, '/account', { secretKey }, options)
}

/** GET /billing: the coordinator's books (signed with the node key or an admin key). */
export function getBilling(
  nodeUrl: string,
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<BillingReport> {
  return call(nodeUrl, '/billing', { secretKey }, options)
}

/** POST /billing/dev-tax-payments: book dev tax passed on to the dev fund. */
export function recordDevTaxPaid(
  nodeUrl: string,
  payment: { amount: string; reference: string },
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<{ devTax: string; devTaxPaid: string; devTaxDue: string; unit: string }> {
  return call(
    nodeUrl,
    '/billing/dev-tax-payments',
    { method: 'POST', body: payment, secretKey },
    options,
  )
}
