// A node's paid-access API from the client's side (docs/paid-access.md): one function per
// route. The terms are checked before anything else uses them (signed by the node they name,
// and by the node asked, when its pubkey is known). Requests that need an identity carry
// NIP-98 auth signed with the caller's key; `now` may be passed in (tests run nodes on a
// clock of their own). A refusal becomes a NodeRequestError with the node's code
// (HANSA_CHEQUE_REPLAY, HANSA_QUOTE_EXPIRED, …) and its message.
import {
  type AccountInfo,
  type BillingReport,
  type ChequeReceipt,
  type QuoteDocument,
  type SignedCheque,
  type SignedTerms,
  type SubscriptionInfo,
  type SubscriptionReceipt,
  type NostrEvent,
  type SubscriptionConsentTerms,
  type Terms,
  subscriptionConsentTemplate,
  verifySignedTerms,
} from '@hansa/protocol'
import { finalizeEvent } from 'nostr-tools/pure'
import {
  NodeRequestError,
  type NodeRequestInit,
  type NodeRequestOptions,
  type SecretKeyOrSigner,
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

// The documents a node's billing API serves: @hansa/protocol's schemas (src/api/billing.ts),
// which the node's routes serialise with.
export type {
  AccountInfo,
  BillingReport,
  ChequeReceipt,
  PaymentInfo,
  SubscriptionInfo,
  SubscriptionReceipt,
  SwapAccountInfo,
} from '@hansa/protocol'
/** POST /subscriptions: the price of N periods of a service, and how to pay it. */
export type Quote = QuoteDocument

/** GET /billing's `settlement` (evm rail). */
export type SettlementReport = NonNullable<BillingReport['settlement']>

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

/**
 * What a subscription is for: `periods` periods of `service`, covering the payer and `pubkeys`;
 * each of those not yet covered needs its signed consent in `consents`
 * (signSubscriptionConsent, signed by that key).
 */
export type SubscriptionRequest = {
  service: string
  periods: number
  pubkeys?: string[]
  consents?: NostrEvent[]
}

/**
 * A key's consent to be covered by `owner`'s subscription to `service` on the node whose
 * pubkey is `node` (protocol/subscription-consent.ts), signed by that key or its signer.
 */
export async function signSubscriptionConsent(
  key: SecretKeyOrSigner,
  terms: SubscriptionConsentTerms,
  now = Math.floor(Date.now() / 1000),
): Promise<NostrEvent> {
  const template = subscriptionConsentTemplate(terms, now)
  return key instanceof Uint8Array ? finalizeEvent(template, key) : key.signEvent(template)
}

/** POST /subscriptions: a price for `periods` periods of `service`, and how to pay it. */
export function quoteSubscription(
  nodeUrl: string,
  request: SubscriptionRequest,
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

/** POST /subscriptions/:id/pubkeys: the owner adds one of her keys, with its signed consent. */
export async function addSubscriptionKey(
  nodeUrl: string,
  subscriptionId: string,
  key: { pubkey: string; consent: NostrEvent },
  secretKey: Uint8Array,
  options?: BillingApiOptions,
): Promise<SubscriptionInfo> {
  return (
    await call<{ subscription: SubscriptionInfo }>(
      nodeUrl,
      `/subscriptions/${subscriptionId}/pubkeys`,
      { method: 'POST', body: key, secretKey },
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
  secretKey: SecretKeyOrSigner,
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
