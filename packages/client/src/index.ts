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
