// HansaClient: a small client plus one action per file (STYLE.md, viem's shape). The client
// holds the environment — WebSocket class, fetch, clocks, randomness, the store — and what it
// learnt in this run (the verified nodes, which ones failed lately, SWAP payers); each action
// in actions/ is a plain function `action(client, params)`, also bound here as a method.
//
//   const client = createHansaClient({ secretKey, store: fileClientStore(path) })
//   await client.join({ inviteCode })
//   const { nodes } = await client.listNodes()
//   await client.subscribe({ service: 'inbox', periods: 1, count: 2 })
//   await client.inbox.send({ recipient, message: 'hi' })
//   const { messages } = await client.inbox.read()
//
// Nothing is read from module globals: every default below can be replaced, which is how the
// tests run several users in one process, each with her own store and key.
import type { RegistryOptions } from './registry-check.js'
import { webcrypto } from 'node:crypto'
import WebSocket from 'ws'
import {
  type ChequebookParams,
  type ChequebookStatus,
  chequebookStatus,
  deployChequebook,
  depositChequebook,
  rememberedChequebook,
} from './actions/chequebook.js'
import type { ChequebookPlace, ChequebookProgress } from './chequebook-eip1193.js'
import { type ChooseParams, type ChooseResult, choose } from './actions/choose.js'
import { type DiscoverParams, type DiscoverResult, discover } from './actions/discover.js'
import { type InboxReadParams, type InboxReadResult, readInbox } from './actions/inbox-read.js'
import {
  type PublishInboxRelaysParams,
  type PublishInboxRelaysResult,
  publishInboxRelays,
} from './actions/inbox-publish-relays.js'
import { type InboxSendParams, type InboxSendResult, sendToInbox } from './actions/inbox-send.js'
import { type InboxWatch, type InboxWatchParams, watchInbox } from './actions/inbox-watch.js'
import { type JoinParams, type JoinResult, join } from './actions/join.js'
import { type ListNodesParams, type ListNodesResult, listNodes } from './actions/list-nodes.js'
import { type RefreshResult, refresh } from './actions/refresh.js'
import { type SubscribeParams, type SubscribeResult, subscribe } from './actions/subscribe.js'
import { type TrustEdit, updateTrust } from './actions/trust.js'
import { verifyNode } from './actions/verify-node.js'
import type { Candidate, Evidence } from './candidates.js'
import { type ClientStore, memoryClientStore } from './client-store.js'
import { NoKeyError } from './errors.js'
import type { NodeReport } from './policy.js'
import { type NostrSigner, localSigner } from './signer.js'
import type { SwapPayer } from './swap-payer.js'
import {
  type OrderBook,
  type WebSocketConstructor,
  createOrderBook,
  customRelaysOf,
  trustedCoordinatorsOf,
} from './orders/index.js'
import type { TrustList } from './trust.js'

export type HansaClientOptions = {
  /** The user's secret key (32 bytes): signs AUTH, payments, messages. Optional for browsing. */
  secretKey?: Uint8Array
  /**
   * Or a signer holding her key elsewhere (a NIP-07 extension: signer.ts). It signs her events
   * and opens her mail; what is not a Nostr event (ledger cheques, SWAP) needs `secretKey`.
   */
  signer?: NostrSigner
  /** Where the joined federation, head, trust list and SWAP books live (default: memory). */
  store?: ClientStore
  /** A WebSocket class (default: `ws`). */
  WebSocket?: unknown
  /** HTTP fetch (default: the global fetch). */
  fetch?: typeof fetch
  /** Unix seconds (default: this machine's clock). */
  now?: () => number
  /** Milliseconds on a monotonic clock, for round trips and deadlines (default: performance.now). */
  clock?: () => number
  /** [0, 1) (default Math.random): the random policy and lotteries. */
  random?: () => number
  randomBytes?: (n: number) => Uint8Array
  discv5?: {
    /** Look nodes up on Discovery v5 (default true). */
    enabled?: boolean
    /** More ENRs to start from, besides those the federation's nodes serve. */
    bootnodes?: string[]
    /** How long a lookup may take, milliseconds (default 1500). */
    timeoutMs?: number
    bindHost?: string
  }
  timeouts?: {
    /** One HTTP request, AUTH, a publish, a query's stored part (default 2000 ms). */
    requestMs?: number
    /** Opening a WebSocket (default 1500 ms). */
    connectMs?: number
    /** Live subscriptions ping this often and give up after as long without a pong (default 700 ms). */
    heartbeatMs?: number
  }
  /** Seconds a node that failed ranks after the others (default 60). */
  downSeconds?: number
  /** Nodes verified at once (default 16). */
  concurrency?: number
  /** Check the nodes against the on-chain FederationRegistry (registry-check.ts). */
  registry?: RegistryOptions
  /** The joint order book (docs/orderbook.md). */
  orders?: {
    /** Sign with a key derived per coordinator, unlinkable across them (default false). */
    perCoordinatorKeys?: boolean
    /** How long the book waits for a coordinator before showing it stale (default 800 ms). */
    timeoutMs?: number
  }
}

export type ClientEnv = {
  secretKey: Uint8Array | undefined
  /** Signs her events: the secret key's local signer, or the one given. */
  signer: NostrSigner | undefined
  WebSocket: unknown
  fetch: typeof fetch
  now: () => number
  clock: () => number
  random: () => number
  randomBytes: (n: number) => Uint8Array
  discv5: { enabled: boolean; bootnodes: string[]; timeoutMs: number; bindHost?: string }
  requestMs: number
  connectMs: number
  heartbeatMs: number
  downSeconds: number
  concurrency: number
  registry: RegistryOptions | undefined
}

/** What one run has learnt; nothing here is persisted. */
export type ClientRuntime = {
  /** Candidates with the evidence gathered on them, by `url pubkey`. */
  checked: Map<string, { candidate: Candidate; evidence: Evidence; checkedAt: number }>
  reports: NodeReport[]
  /** URL → unix seconds until which it ranks last (it failed). */
  down: Map<string, number>
  /** SWAP payers by node URL. */
  payers: Map<string, SwapPayer>
}

export type HansaClient = {
  readonly env: ClientEnv
  readonly store: ClientStore
  readonly runtime: ClientRuntime
  /** The user's pubkey (null without a key). */
  readonly pubkey: string | null
  join(params: JoinParams): Promise<JoinResult>
  refresh(): Promise<RefreshResult>
  discover(params?: DiscoverParams): Promise<DiscoverResult>
  verifyNode(candidate: Candidate): Promise<NodeReport>
  listNodes(params?: ListNodesParams): Promise<ListNodesResult>
  choose(params: ChooseParams): Promise<ChooseResult>
  subscribe(params?: SubscribeParams): Promise<SubscribeResult>
  trustList(): TrustList
  updateTrust(edit: TrustEdit): TrustList
  /**
   * The joint order book: every trusted coordinator's orders (the verified manifest's members,
   * less those the trust list turns off), make, take, cancel, complete.
   */
  orders: OrderBook
  inbox: {
    publishRelays(params?: PublishInboxRelaysParams): Promise<PublishInboxRelaysResult>
    send(params: InboxSendParams): Promise<InboxSendResult>
    read(params?: InboxReadParams): Promise<InboxReadResult>
    watch(params: InboxWatchParams): InboxWatch
  }
  /**
   * Her chequebook for nodes metered in SWAP's hard mode, paid for from a wallet
   * (eip1193Chequebooks) and remembered in the store, where the metered acts find it.
   */
  chequebook: {
    /** The chequebook remembered for that node's chain and factory (the wallet is not asked). */
    remembered(params: {
      node: string
    }): Promise<{ chequebook: string | null; issuer: string; place: ChequebookPlace }>
    status(params: ChequebookParams): Promise<ChequebookStatus>
    deploy(
      params: ChequebookParams & {
        amount: bigint
        onProgress?: (p: ChequebookProgress) => void
      },
    ): Promise<ChequebookStatus>
    deposit(
      params: ChequebookParams & {
        amount: bigint
        onProgress?: (p: ChequebookProgress) => void
      },
    ): Promise<ChequebookStatus>
  }
  /** Closes what the client keeps open (live subscriptions are closed by their own stop()). */
  close(): void
}

export function createHansaClient(options: HansaClientOptions = {}): HansaClient {
  const signer = options.signer ?? (options.secretKey ? localSigner(options.secretKey) : undefined)
  const env: ClientEnv = {
    secretKey: options.secretKey ?? options.signer?.secretKey,
    signer,
    WebSocket: options.WebSocket ?? WebSocket,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    now: options.now ?? (() => Math.floor(Date.now() / 1000)),
    clock: options.clock ?? (() => performance.now()),
    random: options.random ?? Math.random,
    randomBytes: options.randomBytes ?? ((n) => webcrypto.getRandomValues(new Uint8Array(n))),
    discv5: {
      enabled: options.discv5?.enabled ?? true,
      bootnodes: options.discv5?.bootnodes ?? [],
      timeoutMs: options.discv5?.timeoutMs ?? 1500,
      ...(options.discv5?.bindHost === undefined ? {} : { bindHost: options.discv5.bindHost }),
    },
    requestMs: options.timeouts?.requestMs ?? 2000,
    connectMs: options.timeouts?.connectMs ?? 1500,
    heartbeatMs: options.timeouts?.heartbeatMs ?? 700,
    downSeconds: options.downSeconds ?? 60,
    concurrency: options.concurrency ?? 16,
    registry: options.registry,
  }
  const store = options.store ?? memoryClientStore()
  const client: HansaClient = {
    env,
    store,
    runtime: { checked: new Map(), reports: [], down: new Map(), payers: new Map() },
    pubkey: signer?.pubkey ?? null,
    join: (params) => join(client, params),
    refresh: () => refresh(client),
    discover: (params) => discover(client, params),
    verifyNode: (candidate) => verifyNode(client, candidate),
    listNodes: (params) => listNodes(client, params),
    choose: (params) => choose(client, params),
    subscribe: (params) => subscribe(client, params),
    trustList: () => client.store.load().trust,
    updateTrust: (edit) => updateTrust(client, edit),
    orders: createOrderBook({
      coordinators: trustedCoordinatorsOf(store),
      relays: customRelaysOf(store),
      ...(signer === undefined
        ? {}
        : {
            identity: {
              signer,
              perCoordinator: options.orders?.perCoordinatorKeys ?? false,
            },
          }),
      WebSocket: env.WebSocket as WebSocketConstructor,
      now: env.now,
      ...(options.orders?.timeoutMs === undefined ? {} : { timeoutMs: options.orders.timeoutMs }),
    }),
    inbox: {
      publishRelays: (params) => publishInboxRelays(client, params),
      send: (params) => sendToInbox(client, params),
      read: (params) => readInbox(client, params),
      watch: (params) => watchInbox(client, params),
    },
    chequebook: {
      remembered: (params) => rememberedChequebook(client, params),
      status: (params) => chequebookStatus(client, params),
      deploy: (params) => deployChequebook(client, params),
      deposit: (params) => depositChequebook(client, params),
    },
    close() {
      client.runtime.payers.clear()
    },
  }
  return client
}

/** The user's key, or a NoKeyError naming what needed it. */
export function requireKey(client: HansaClient, what: string): Uint8Array {
  if (client.env.secretKey === undefined) throw new NoKeyError(what)
  return client.env.secretKey
}

/** The user's signer, or a NoKeyError naming what needed it. */
export function requireSigner(client: HansaClient, what: string): NostrSigner {
  if (client.env.signer === undefined) throw new NoKeyError(what)
  return client.env.signer
}
