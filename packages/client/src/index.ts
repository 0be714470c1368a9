// @hansa/client: the Hansa client SDK.
export {
  type FederationInfo,
  type Proposal,
  type ProposalResult,
  type ApiOptions,
  NodeRequestError,
  httpUrlOf,
  getFederation,
  getChain,
  postChain,
  getProposals,
  postProposal,
  postSignature,
  requestSync,
} from './federation-api.js'
export {
  type HeadStorage,
  type ForkReport,
  type HeadUpdate,
  type ManifestStoreOptions,
  ManifestStore,
  memoryHeadStorage,
} from './manifest-store.js'
export {
  type BillingApiOptions,
  type SubscriptionInfo,
  type SwapAccountInfo,
  type PaymentInfo,
  type Quote,
  type SubscriptionReceipt,
  type ChequeReceipt,
  type AccountInfo,
  type BillingReport,
  getTerms,
  quoteSubscription,
  paySubscription,
  getSubscriptions,
  addSubscriptionKey,
  removeSubscriptionKey,
  sendCheque,
  getAccount,
  getBilling,
  recordDevTaxPaid,
} from './billing-api.js'
export {
  type PayerState,
  type PayerStorage,
  type SwapPayerOptions,
  SwapPayer,
  memoryPayerStorage,
  subscribeWith,
} from './swap-payer.js'
export * from './orders/index.js'
