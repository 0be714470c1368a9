// subscribe(client, { service, periods, count }): pays for a service on `count` nodes — the
// node given, or the best of the ranking (choose.ts) among those not already holding her
// mail, failing over to the next when one is
// down or refuses — through the paid-access API (billing-api.ts, swap-payer.ts):
//   free          nothing to pay; the node is used as it is
//   subscription  a quote for `periods` periods, paid with a cheque (ledger rail) or by
//                 transaction (evm rail: an injected wallet, or the key's own on `rpcUrl`)
//   metered       nothing up front: a SWAP payer pays cheques as the use adds up
// Cheques are EIP-712, not Nostr events: they need the secret key; a NIP-07 signer pays on the
// evm rail only (signer.ts).
// For the inbox, the nodes become the user's inbox relays (kept in the store, in order) and
// her kind 10050 list is published, so senders find them.
import type { HansaClient } from '../client.js'
import { requireSigner } from '../client.js'
import { type Attempt, payerFor } from '../failover.js'
import type { NodeReport, Policy } from '../policy.js'
import { markDown, markUp } from '../reports.js'
import type { SubscriptionReceipt } from '../billing-api.js'
import { type EvmPayer, subscribeOnChain } from '../evm-wallet.js'
import { type NostrSigner, requireSecret } from '../signer.js'
import { subscribeWith } from '../swap-payer.js'
import { AllNodesFailedError, ChequebookMissingError, NoNodeError } from '../errors.js'
import { choose } from './choose.js'
import { type PublishInboxRelaysResult, publishInboxRelays } from './inbox-publish-relays.js'
import { listNodes } from './list-nodes.js'

export type SubscribeParams = {
  /** Default inbox. */
  service?: string
  /** Periods to pay for on a subscription node (default 1). */
  periods?: number
  /** A node URL to use; otherwise the best `count` of the ranking. */
  node?: string
  /** How many nodes (default 1). */
  count?: number
  policy?: Policy
  /** The chain's JSON-RPC URL, for nodes paid on chain (evm rail) from the user's own key. */
  rpcUrl?: string
  /** Or the wallet that pays on chain (an injected one: eip1193Payer). */
  evmWallet?: EvmPayer
  /** Publish the user's kind 10050 list afterwards (default: true for the inbox). */
  publishInboxRelays?: boolean
}

export type Subscription = {
  url: string
  pubkey: string | null
  coordinator: string | null
  access: 'free' | 'subscription' | 'metered'
  /** The paid subscription (subscription access only). */
  receipt: SubscriptionReceipt | null
  /** Unix seconds (subscription access only). */
  expiresAt: number | null
}

export type SubscribeResult = {
  service: string
  subscriptions: Subscription[]
  attempts: Attempt[]
  inboxRelays: string[] | null
  published: PublishInboxRelaysResult | null
}

async function pay(
  client: HansaClient,
  node: NodeReport,
  service: string,
  periods: number,
  signer: NostrSigner,
  evm: { rpcUrl?: string; evmWallet?: EvmPayer },
): Promise<Subscription> {
  const access = node.terms?.services[service]?.access ?? 'free'
  const base = {
    url: node.url,
    pubkey: node.pubkey,
    coordinator: node.coordinator?.alias ?? null,
    access,
  } as const
  if (access === 'free') return { ...base, receipt: null, expiresAt: null }
  if (access === 'metered') {
    await payerFor(client, node.url, service, signer)
    return { ...base, receipt: null, expiresAt: null }
  }
  if (node.terms?.settlement.evm) {
    if (!evm.rpcUrl && !evm.evmWallet) {
      throw new Error(
        `${node.url} is paid on chain (evm rail, chain ${node.terms.settlement.chainId}): give the chain's RPC URL (rpcUrl, hansa subscribe --rpc-url)`,
      )
    }
    const paid = await subscribeOnChain(
      node.url,
      { service, periods },
      signer.secretKey ?? signer,
      {
        ...(evm.evmWallet ? { wallet: evm.evmWallet } : { rpcUrl: evm.rpcUrl! }),
        timeoutMs: client.env.requestMs,
        now: client.env.now,
      },
    )
    const receipt = paid as unknown as SubscriptionReceipt
    return { ...base, receipt, expiresAt: receipt.subscription.expiresAt }
  }
  const secretKey = requireSecret(signer, `paying ${node.url} by ledger cheque (EIP-712)`)
  const receipt = await subscribeWith(node.url, { service, periods }, secretKey, {
    timeoutMs: client.env.requestMs,
    now: client.env.now,
  })
  return { ...base, receipt, expiresAt: receipt.subscription.expiresAt }
}

export async function subscribe(
  client: HansaClient,
  params: SubscribeParams = {},
): Promise<SubscribeResult> {
  const signer = requireSigner(client, 'subscribing')
  const service = params.service ?? 'inbox'
  const periods = params.periods ?? 1
  const count = params.count ?? 1
  if (client.runtime.reports.length === 0) await listNodes(client)
  let order: NodeReport[]
  if (params.node !== undefined) {
    const url = params.node.replace(/\/+$/, '')
    const report = client.runtime.reports.find(
      (r) => r.url === url && (r.status === 'trusted' || r.status === 'custom'),
    )
    if (report === undefined) {
      const known = client.runtime.reports.find((r) => r.url === url)
      throw new AllNodesFailedError(`subscribing to ${service}`, [
        {
          url,
          error: known
            ? `${known.status}: ${known.reason}`
            : 'not a verified node (see hansa nodes)',
        },
      ])
    }
    order = [report]
  } else {
    // More nodes, not the same again: nodes already holding her mail are renewed by URL.
    const mine = new Set(service === 'inbox' ? client.store.load().inboxRelays : [])
    const ranked = (
      await choose(client, { service, ...(params.policy ? { policy: params.policy } : {}) })
    ).ranked
    order = ranked.filter((n) => !mine.has(n.url))
  }
  const subscriptions: Subscription[] = []
  const attempts: Attempt[] = []
  for (const node of order) {
    if (subscriptions.length >= count) break
    try {
      subscriptions.push(
        await pay(client, node, service, periods, signer, {
          ...(params.rpcUrl === undefined ? {} : { rpcUrl: params.rpcUrl }),
          ...(params.evmWallet === undefined ? {} : { evmWallet: params.evmWallet }),
        }),
      )
      markUp(client, node.url)
    } catch (error) {
      // the node chosen by name needs something only the user can do: say it as it is
      if (params.node !== undefined && error instanceof ChequebookMissingError) throw error
      markDown(client, node.url)
      attempts.push({ url: node.url, error: (error as Error).message })
    }
  }
  if (subscriptions.length === 0) {
    if (order.length === 0)
      throw new NoNodeError(service, { verified: 0, disabled: 0, rejected: 0 })
    throw new AllNodesFailedError(`subscribing to ${service}`, attempts)
  }
  let inboxRelays: string[] | null = null
  let published: PublishInboxRelaysResult | null = null
  if (service === 'inbox') {
    const state = client.store.load()
    inboxRelays = [...new Set([...state.inboxRelays, ...subscriptions.map((s) => s.url)])]
    client.store.save({ ...state, inboxRelays })
    if (params.publishInboxRelays ?? true) {
      published = await publishInboxRelays(client, { relays: inboxRelays })
    }
  }
  return { service, subscriptions, attempts, inboxRelays, published }
}
