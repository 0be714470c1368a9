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
  getSyncStatus,
  type RegistrySignaturesInfo,
  getRegistrySignatures,
  postRegistrySignature,
} from './federation-api.js'
export {
  type DraftProblem,
  type FederationDraftParams,
  type FederationDraftCheck,
  checkFederationDraft,
} from './federation-draft.js'
export { type PostedSignature, postGuardianSignature } from './federation-sign.js'
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
  signSubscriptionConsent,
  type SubscriptionRequest,
  sendCheque,
  getAccount,
  getBilling,
  recordDevTaxPaid,
} from './billing-api.js'
export type { EventSigner, SecretKeyOrSigner } from './node-request.js'
export {
  type BillingHistory,
  type BillingHistoryPoint,
  getBillingHistory,
} from './billing-history.js'
export {
  type PayerState,
  type PayerStorage,
  type SwapPayerOptions,
  SwapPayer,
  memoryPayerStorage,
  subscribeWith,
} from './swap-payer.js'
export * from './orders/index.js'
export {
  type CoordinatorChoice,
  type CustomNode,
  type TrustList,
  DEFAULT_TRUST_LIST,
  TrustListError,
  coordinatorEnabled,
  setCoordinator,
  resetCoordinator,
  setDefaultCoordinator,
  addCustomNode,
  removeCustomNode,
  setPreferCustom,
  parseTrustList,
} from './trust.js'
export {
  type CandidateSource,
  type Candidate,
  type Evidence,
  type NodeStatus,
  type Verdict,
  type JudgeContext,
  manifestEntryOf,
  precheck,
  judge,
  mergeCandidates,
} from './candidates.js'
export {
  type Policy,
  type NodeReport,
  type Usage,
  type RankOptions,
  POLICIES,
  DEFAULT_USAGE,
  isEligible,
  monthlyCost,
  devfundChance,
  rankNodes,
} from './policy.js'
export {
  type HansaClient,
  type HansaClientOptions,
  type ClientEnv,
  type ClientRuntime,
  createHansaClient,
  requireKey,
  requireSigner,
} from './client.js'
export {
  type ClientState,
  type ClientStore,
  EMPTY_CLIENT_STATE,
  memoryClientStore,
  fileClientStore,
  defaultClientConfigPath,
  headStorageOf,
  payerStorageOf,
  type ChequebookRecord,
  rememberChequebook,
  chequebookFor,
} from './client-store.js'
export {
  type ClientErrorCode,
  type Attempt,
  CLIENT_ERROR_CODES,
  NotJoinedError,
  JoinFailedError,
  NoNodeError,
  AllNodesFailedError,
  NoKeyError,
  SignerError,
  NoInboxRelaysError,
  ClientStoreError,
  ChequebookMissingError,
} from './errors.js'
export {
  type DiscoveryInfo,
  type ProofResult,
  getDiscovery,
  proveNodeKey,
} from './discovery-api.js'
export { type LookupOptions, type LookupResult, lookupEnrs } from './discv5-lookup.js'
export { type InboxMessage, parsePubkey } from './inbox-messages.js'
export { type JoinParams, type JoinResult, join } from './actions/join.js'
export { type RefreshResult, refresh } from './actions/refresh.js'
export {
  type DiscoverParams,
  type DiscoverResult,
  type Discv5Summary,
  candidateOfEnr,
  discover,
} from './actions/discover.js'
export { verifyNode } from './actions/verify-node.js'
export { type ListNodesParams, type ListNodesResult, listNodes } from './actions/list-nodes.js'
export { type ChooseParams, type ChooseResult, choose } from './actions/choose.js'
export {
  type SubscribeParams,
  type SubscribeResult,
  type Subscription,
  subscribe,
} from './actions/subscribe.js'
export { type TrustEdit, updateTrust } from './actions/trust.js'
export {
  type PublishInboxRelaysParams,
  type PublishInboxRelaysResult,
  publishInboxRelays,
} from './actions/inbox-publish-relays.js'
export {
  type InboxSendParams,
  type InboxSendResult,
  type Delivery,
  sendToInbox,
} from './actions/inbox-send.js'
export { type InboxReadParams, type InboxReadResult, readInbox } from './actions/inbox-read.js'
export {
  type InboxWatchParams,
  type InboxWatch,
  type WatchStatus,
  watchInbox,
} from './actions/inbox-watch.js'
export * from './evm-wallet.js'
export * from './evm-eip1193.js'
export * from './chequebook-eip1193.js'
export {
  type ChequebookParams,
  type ChequebookStatus,
  chequebookStatus,
  deployChequebook,
  depositChequebook,
  rememberedChequebook,
} from './actions/chequebook.js'
export * from './signer.js'
export { wrapMessage, unwrapMessage, type Rumor } from './gift-wrap.js'
export * from './registry-check.js'
