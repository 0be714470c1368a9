// @hansa/cli as a library: the functions behind the `hansa` commands, which return data (the
// commands print it). Tests and tools call them directly.
export {
  guardianInit,
  loadGuardian,
  type Guardian,
  type GuardianInitResult,
} from './federation/guardian.js'
export {
  draftFederation,
  type DraftParams,
  type DraftResult,
  type DraftProblem,
} from './federation/draft.js'
export {
  signProposal,
  proposeChange,
  listProposals,
  showFederation,
  verifyChainFile,
  type SignResult,
  type ProposeResult,
  type ProposeEdits,
  type ShowResult,
  type VerifyResult,
} from './federation/governance.js'
export { startDevnet, type Devnet, type DevnetInfo, type DevnetNode } from './federation/devnet.js'
export { inviteCodeFor, manifestLines, changeLines } from './federation/summary.js'
export {
  showTerms,
  termsLines,
  showAccount,
  accountLines,
  subscribe,
  addKey,
  removeKey,
  showBilling,
  billingLines,
  devTaxPaid,
  type TermsResult,
} from './billing/billing.js'
export {
  type UserOptions,
  type JoinOutput,
  type NodeRow,
  type NodesOutput,
  type TrustAction,
  type TrustOutput,
  type SubscribeOptions,
  type SubscribeOutput,
  openClient,
  joinCommand,
  joinLines,
  nodeRow,
  nodesCommand,
  nodesTableRows,
  trustCommand,
  trustLines,
  subscribeCommand,
  subscribeLines,
  inboxSendCommand,
  inboxSendLines,
  inboxReadCommand,
  inboxReadLines,
  inboxWatchCommand,
} from './client/user.js'
export { anchorChain, anchorFromNode, type AnchorResult } from './federation/anchor.js'
export {
  anchorSign,
  signForRegistry,
  federationIdFor,
  type RegistrySigning,
} from './federation/registry-sign.js'
