// How the app pays, per settlement rail. A node's signed terms name the rails it takes
// (terms.settlement.rails); the app offers those it has a payer for. Adding a rail is one
// entry here: what to tell the user before paying, and how to pay (through @hansa/client).
//
//   ledger  an EIP-712 cheque, signed with the key itself. A NIP-07 signer cannot sign one, so
//           a NIP-07 user is told so and offered a one-time key for this payment only: made in
//           the page's memory, never stored, it signs the cheque and owns the subscription,
//           which covers her signer's key (a subscription's `pubkeys`, with her consent signed
//           by the signer: a kind 29243 event).
//   evm     a transaction from the browser's Ethereum wallet (EIP-1193, window.ethereum) through
//           the node's PaymentRouter; the node requests are signed by her signer, whichever.
import {
  type HansaClient,
  type SubscribeResult,
  type Eip1193Provider,
  eip1193Payer,
  signSubscriptionConsent,
  subscribeWith,
} from '@hansa/client'
import { generateSecretKey, nostrPublicKey } from '@hansa/protocol'

export type PayParams = { node: string; service: string; periods: number }

export type PayRail = {
  name: string
  label: string
  /** Shown before paying: what happens and what it costs outside the price. */
  explain(client: HansaClient): string
  pay(client: HansaClient, params: PayParams): Promise<SubscribeResult>
}

const usesSigner = (client: HansaClient) => client.env.signer?.kind === 'nip07'

/** The browser's injected Ethereum wallet, if any. */
export const injectedWallet = (): Eip1193Provider | null =>
  (globalThis as { ethereum?: Eip1193Provider }).ethereum ?? null

/** A ledger cheque from a one-time key, for a user whose key is in a NIP-07 signer. */
async function payWithOneTimeKey(client: HansaClient, p: PayParams): Promise<SubscribeResult> {
  const me = client.pubkey
  const signer = client.env.signer
  if (me === null || signer === undefined)
    throw new Error('Choose a key or the browser signer first.')
  const nodeKey = client.runtime.reports.find((r) => r.url === p.node)?.pubkey
  if (!nodeKey) throw new Error(`${p.node} is not a verified node: refresh the Nodes screen.`)
  const oneTime = generateSecretKey()
  // Her key agrees to be covered by the one-time key's subscription (signed by her signer).
  const consent = await signSubscriptionConsent(
    signer,
    { node: nodeKey, service: p.service, owner: nostrPublicKey(oneTime) },
    client.env.now(),
  )
  const receipt = await subscribeWith(
    p.node,
    { service: p.service, periods: p.periods, pubkeys: [me], consents: [consent] },
    oneTime,
    { timeoutMs: client.env.requestMs, now: client.env.now },
  )
  // What client.subscribe does after paying: the node holds her mail, and senders learn it.
  let inboxRelays: string[] | null = null
  let published = null
  if (p.service === 'inbox') {
    const state = client.store.load()
    inboxRelays = [...new Set([...state.inboxRelays, p.node])]
    client.store.save({ ...state, inboxRelays })
    published = await client.inbox.publishRelays({ relays: inboxRelays })
  }
  return {
    service: p.service,
    subscriptions: [
      {
        url: p.node,
        pubkey: null,
        coordinator: null,
        access: 'subscription',
        receipt,
        expiresAt: receipt.subscription.expiresAt,
      },
    ],
    attempts: [],
    inboxRelays,
    published,
  }
}

export const PAY_RAILS: Record<string, PayRail> = {
  ledger: {
    name: 'ledger',
    label: 'Ledger cheque',
    explain: (client) =>
      usesSigner(client)
        ? 'A ledger cheque is signed as EIP-712 with the key itself, which your browser signer (NIP-07) does not hand out and cannot sign. Paying makes a one-time key in this page’s memory for this payment only (never stored): it signs the cheque and owns the subscription, which covers your signer’s key. Renewing makes a new one.'
        : 'Signs an EIP-712 cheque with your key for the quoted amount; the node credits it at once (the ledger rail keeps it on trust, nothing moves on chain).',
    pay: (client, p) =>
      usesSigner(client)
        ? payWithOneTimeKey(client, p)
        : client.subscribe({ node: p.node, service: p.service, periods: p.periods }),
  },
  evm: {
    name: 'evm',
    label: 'Ethereum wallet (on chain)',
    explain: () =>
      injectedWallet() === null
        ? 'Paid on chain from an Ethereum wallet, but this browser has none (window.ethereum): install or unlock a wallet extension and reload.'
        : 'Your Ethereum wallet sends two transactions — approve the token, then pay the node’s PaymentRouter — and pays their gas; the subscription covers your Nostr key whatever account pays. The node lets you in once the payment is confirmed.',
    pay: (client, p) =>
      client.subscribe({
        node: p.node,
        service: p.service,
        periods: p.periods,
        evmWallet: eip1193Payer(injectedWallet()),
      }),
  },
}

/** The rails a node takes that this app can pay with, and those it cannot (named to the user). */
export function railsFor(rails: readonly string[]): { usable: PayRail[]; unsupported: string[] } {
  return {
    usable: rails.map((r) => PAY_RAILS[r]).filter((r): r is PayRail => r !== undefined),
    unsupported: rails.filter((r) => PAY_RAILS[r] === undefined),
  }
}
