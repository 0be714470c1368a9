// The paid-access commands as functions that return data (the command modules print it):
// a node's terms, a user's account and subscriptions, and the coordinator's books. Keys come
// from key files (`hansa keygen` writes one; a node's is <data-dir>/node.key).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type AccountInfo,
  type BillingReport,
  type SubscriptionInfo,
  type SubscriptionReceipt,
  addSubscriptionKey,
  getAccount,
  getBilling,
  getSubscriptions,
  getTerms,
  recordDevTaxPaid,
  removeSubscriptionKey,
  signSubscriptionConsent,
  subscribeOnChain,
  subscribeWith,
} from '@hansa/client'
import { readKeyFile } from '@hansa/node'
import {
  HansaError,
  type NostrEvent,
  type Terms,
  formatBps,
  formatPpm,
  isHex64,
  tradingTermsOf,
} from '@hansa/protocol'

export const DEFAULT_NODE_URL = 'ws://127.0.0.1:7447'

/** The chain's JSON-RPC URL: --rpc-url, else HANSA_RPC_URL. */
export function rpcUrlOf(given?: string): string {
  const url = given ?? process.env.HANSA_RPC_URL
  if (!url) {
    throw new HansaError(
      'HANSA_USAGE',
      'this node is paid on chain (evm rail): give the chain with --rpc-url <url> or HANSA_RPC_URL (hansa devnet prints it)',
    )
  }
  return url
}

export type KeyOptions = { key?: string; dataDir?: string }

/** A user's key: --key FILE (default ./hansa.key). */
export function userKey(opts: KeyOptions): Uint8Array {
  return readKeyFile(opts.key ?? 'hansa.key').secretKey
}

/** The coordinator's key: --key FILE, or the node key in --data-dir (default ./hansa-data). */
export function nodeKey(opts: KeyOptions): Uint8Array {
  return readKeyFile(opts.key ?? join(opts.dataDir ?? './hansa-data', 'node.key')).secretKey
}

export type TermsResult = { url: string; terms: Terms; lines: string[] }

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z')
const days = (s: number) => (s % 86_400 === 0 ? `${s / 86_400} days` : `${s} seconds`)

/** How a person reads terms: one line per service, then the rail and the dev tax. */
export function termsLines(terms: Terms): string[] {
  const out = [`Terms of node ${terms.node} (signature verified), issued ${iso(terms.issuedAt)}`]
  for (const [name, t] of Object.entries(terms.services)) {
    if (t.access === 'free') out.push(`  ${name}: free`)
    else if (t.access === 'subscription') {
      out.push(
        `  ${name}: subscription, ${t.price} ${t.unit} per period of ${days(t.periodSeconds)}; 1 to ${t.maxPeriods} periods at a time; one subscription covers up to ${t.maxPubkeys} of your keys`,
      )
    } else {
      out.push(
        `  ${name}: metered (SWAP, ${t.swap} mode): ${t.prices.query} ${t.unit} per query answered, ${t.prices.event} ${t.unit} per event stored, ${t.prices.kilobyte} ${t.unit} per KB; pay by cheque at ${t.paymentThreshold} ${t.unit} owed, refused past ${t.disconnectThreshold} ${t.unit}`,
      )
    }
    const trading = tradingTermsOf(t)
    if (trading !== null) {
      out.push(
        `    trading: ${trading.currencies.join(', ')}; ${trading.minSats} to ${trading.maxSats} sats; fees ${formatPpm(trading.makerFeePpm)} maker, ${formatPpm(trading.takerFeePpm)} taker; bond ${formatPpm(trading.bondPpm)}; ${trading.network}, ${trading.layers.join(', ')}`,
      )
    }
  }
  const s = terms.settlement
  if (s.evm) {
    out.push(
      `Pay through: evm on chain ${s.chainId} — token ${s.evm.token}, PaymentRouter ${s.evm.router} (${s.evm.confirmations} confirmation(s))${s.evm.chequebookFactory ? `; cheques to ${s.beneficiary} from chequebooks of factory ${s.evm.chequebookFactory}` : ''}${s.evm.registry ? `; registry ${s.evm.registry}` : ''}`,
    )
  } else {
    out.push(
      `Pay through: ${s.rails.join(', ')} — cheques to ${s.beneficiary} on chain ${s.chainId}`,
    )
  }
  out.push(
    terms.devTax.rateBps === 0
      ? 'Dev tax: none (this coordinator gives nothing to the dev fund)'
      : `Dev tax: ${formatBps(terms.devTax.rateBps)} of what you pay goes to the dev fund${terms.devTax.recipient ? ` (${terms.devTax.recipient})` : ''}`,
  )
  return out
}

/** `hansa terms`: a node's terms, verified. */
export async function showTerms(url = DEFAULT_NODE_URL): Promise<TermsResult> {
  const { terms } = await getTerms(url)
  return { url, terms, lines: termsLines(terms) }
}

const subscriptionLine = (s: SubscriptionInfo, me: string) =>
  `  ${s.service} subscription ${s.id}: ${s.active ? 'active until' : 'EXPIRED on'} ${s.expires}${s.owner === me ? '' : ` (owner ${s.owner.slice(0, 12)}…)`}; keys ${s.pubkeys.map((p) => `${p.slice(0, 12)}…`).join(', ')}`

/** How a person reads her account. */
export function accountLines(a: AccountInfo, url: string): string[] {
  const out = [`Account of ${a.pubkey} at ${url}`]
  if (a.subscriptions.length === 0) out.push('  no subscription')
  for (const s of a.subscriptions) out.push(subscriptionLine(s, a.pubkey))
  if (a.swap) {
    const w = a.swap
    const state =
      w.bounds === 'within'
        ? 'within bounds'
        : w.bounds === 'debt'
          ? 'OUT OF BOUNDS: owes more than the disconnect threshold'
          : 'out of bounds: paid more than the disconnect threshold ahead'
    out.push(
      `  SWAP balance: ${w.balance} ${a.unit} owed (charged ${w.charged}, paid ${w.paid}, ${w.requests} requests), ${state}; pay at ${w.paymentThreshold}, refused past ${w.disconnectThreshold} (${w.mode} mode)`,
    )
  }
  if (a.chequebook) {
    out.push(
      `  chequebook ${a.chequebook.address}: cumulative payout ${a.chequebook.cumulativePayout} ${a.unit}`,
    )
  }
  for (const p of a.payments.slice(0, 5)) {
    out.push(
      `  paid ${p.amount} ${p.unit} (${p.purpose}${p.service ? ` ${p.service}` : ''}) at ${iso(p.at)}`,
    )
  }
  out.push(`  dev tax on this node: ${a.devTax.rate} of every payment`)
  return out
}

export async function showAccount(url: string, secretKey: Uint8Array) {
  const account = await getAccount(url, secretKey)
  return { url, account, lines: accountLines(account, url) }
}

/** `hansa account subscribe`: quote, a cheque for the quoted amount, payment. */
export async function subscribe(
  url: string,
  secretKey: Uint8Array,
  ask: { service: string; periods: number; pubkeys?: string[] } & ConsentSources,
  rpc?: string,
): Promise<SubscriptionReceipt & { lines: string[] }> {
  if (!Number.isInteger(ask.periods) || ask.periods < 1) {
    throw new HansaError('HANSA_USAGE', '--periods must be a whole number ≥ 1')
  }
  const { consent: _files, addedKey: _keys, ...plain } = ask
  const { getPublicKey } = await import('nostr-tools/pure')
  const owner = getPublicKey(secretKey)
  const others = (ask.pubkeys ?? []).filter((p) => p !== owner)
  const consents = await consentsFor(url, owner, ask.service, others, ask, false)
  const request = consents.length > 0 ? { ...plain, consents } : plain
  const { terms } = await getTerms(url)
  if (terms.settlement.evm) {
    const rpcUrl = rpcUrlOf(rpc)
    const paid = await subscribeOnChain(url, request, secretKey, { rpcUrl })
    const receipt = paid as unknown as SubscriptionReceipt & { payment: { tx: string } }
    return {
      ...receipt,
      lines: [
        `Paid ${receipt.payment.amount} ${receipt.payment.unit} on chain for ${receipt.payment.periods} period(s) of ${receipt.subscription.service} (tx ${paid.tx}; dev tax ${receipt.payment.devTax} of it, split by the router).`,
        `Active until ${receipt.subscription.expires}.`,
      ],
    }
  }
  const receipt = await subscribeWith(url, request, secretKey)
  const p = receipt.payment
  return {
    ...receipt,
    lines: [
      `Paid ${p.amount} ${p.unit} for ${p.periods} period(s) of ${receipt.subscription.service} (dev tax ${p.devTax} of it).`,
      `Active until ${receipt.subscription.expires}.`,
    ],
  }
}

/** The caller's subscription to `service` (she must own it to change it). */
async function ownSubscription(url: string, secretKey: Uint8Array, service: string) {
  const { getPublicKey } = await import('nostr-tools/pure')
  const me = getPublicKey(secretKey)
  const sub = (await getSubscriptions(url, secretKey)).find(
    (s) => s.service === service && s.owner === me,
  )
  if (!sub) {
    throw new HansaError(
      'HANSA_USAGE',
      `you own no ${service} subscription at ${url}; subscribe first: hansa account subscribe --service ${service} --periods 1`,
    )
  }
  return sub
}

export async function addKey(
  url: string,
  secretKey: Uint8Array,
  service: string,
  pubkey: string,
  consents: ConsentSources = {},
) {
  const sub = await ownSubscription(url, secretKey, service)
  const [consent] = await consentsFor(url, sub.owner, service, [pubkey], consents)
  return addSubscriptionKey(url, sub.id, { pubkey, consent: consent! }, secretKey)
}

/** Where the consents of added keys come from: files made by `hansa account consent`, or their key files. */
export type ConsentSources = { consent?: string[]; addedKey?: string[] }

/**
 * The signed consent of each of `pubkeys` to be covered by `owner`'s subscription: read from
 * a --consent file or signed with an --added-key file. A key with neither is a usage error that
 * says how to get one (`required`), or left to the node, which knows whether it is covered.
 */
export async function consentsFor(
  url: string,
  owner: string,
  service: string,
  pubkeys: readonly string[],
  sources: ConsentSources,
  required = true,
): Promise<NostrEvent[]> {
  if (pubkeys.length === 0) return []
  const { getPublicKey } = await import('nostr-tools/pure')
  const read = new Map<string, NostrEvent>()
  for (const file of sources.consent ?? []) {
    let event: NostrEvent
    try {
      event = JSON.parse(readFileSync(file, 'utf8')) as NostrEvent
    } catch (err) {
      throw new HansaError(
        'HANSA_USAGE',
        `--consent ${file}: not a JSON consent (${(err as Error).message})`,
      )
    }
    read.set(event.pubkey, event)
  }
  const { terms } = await getTerms(url)
  for (const file of sources.addedKey ?? []) {
    const key = readKeyFile(file).secretKey
    const consent = await signSubscriptionConsent(key, { node: terms.node, service, owner })
    read.set(getPublicKey(key), consent)
  }
  return pubkeys.flatMap((pubkey) => {
    const consent = read.get(pubkey)
    if (consent) return [consent]
    // A key the subscription covers already needs none: the node says when one is missing.
    if (!required) return []
    throw new HansaError(
      'HANSA_USAGE',
      `${pubkey.slice(0, 12)}… must consent to be covered: its holder runs hansa account consent --owner ${owner} --service ${service} --node ${url} --key <its key file> > consent.json, and you pass --consent consent.json (or pass its key file with --added-key)`,
    )
  })
}

/** This key's consent to be covered by `owner`'s subscription to `service` at `url`. */
export async function consent(url: string, secretKey: Uint8Array, owner: string, service: string) {
  if (!isHex64(owner))
    throw new HansaError('HANSA_USAGE', '--owner must be a pubkey (64 lowercase hex)')
  const { terms } = await getTerms(url)
  return signSubscriptionConsent(secretKey, { node: terms.node, service, owner })
}

export async function removeKey(
  url: string,
  secretKey: Uint8Array,
  service: string,
  pubkey: string,
) {
  const sub = await ownSubscription(url, secretKey, service)
  return removeSubscriptionKey(url, sub.id, pubkey, secretKey)
}

/** How a coordinator reads her books. */
export function billingLines(b: BillingReport, url: string): string[] {
  const t = b.totals
  const out = [
    `Books of node ${b.node} at ${url} (unit ${b.unit}, rail ${b.rail}, dev tax ${b.devTax.rate})`,
    `  services:  ${Object.entries(b.services)
      .map(([n, a]) => `${n} ${a}`)
      .join(', ')}`,
    `  received:  ${t.received} ${b.unit} in ${t.payments} payment(s)`,
    `  income:    ${t.income} ${b.unit}`,
    `  dev tax:   ${t.devTax} ${b.unit} booked, ${t.devTaxPaid} paid, ${t.devTaxDue} due`,
  ]
  const active = Object.entries(b.subscriptions.active)
  if (active.length > 0) {
    out.push(`  subscriptions active: ${active.map(([s, n]) => `${s} ${n}`).join(', ')}`)
  }
  if (b.swap) {
    out.push(
      `  SWAP (${b.swap.mode} mode, pay at ${b.swap.paymentThreshold}, refused past ${b.swap.disconnectThreshold}): ${b.swap.peers.length} peer(s), ${b.swap.outOfBounds.length} out of bounds`,
    )
    for (const p of b.swap.peers) {
      out.push(
        `    ${p.peer.slice(0, 16)}… owes ${p.balance} (charged ${p.charged}, paid ${p.paid})${p.bounds === 'within' ? '' : ` OUT OF BOUNDS (${p.bounds})`}`,
      )
    }
  }
  out.push(`  cheques received: ${b.cheques}`)
  const cash = b.settlement?.cashOuts
  if (cash) {
    out.push(
      `  on chain:  ${cash.uncashed} ${b.unit} uncashed, ${cash.cashed} cashed (${cash.cashedDevTax} of it to the dev fund), ${cash.bounced} bounced`,
    )
    for (const c of cash.chequebooks) {
      out.push(
        `    chequebook ${c.chequebook}: cumulative ${c.cumulative}, cashed ${c.cashed}, bounced ${c.bounced}, ${c.status}${c.tx ? ` (tx ${c.tx})` : ''}${c.lastError ? ` — last error: ${c.lastError}` : ''}`,
      )
    }
    for (const t of cash.cashOuts.slice(0, 10)) {
      out.push(
        `    cash-out ${t.tx}: paid ${t.paid} (dev tax ${t.devTax})${t.bounced !== '0' ? `, BOUNCED ${t.bounced}` : ''}, gas ${t.gasUsed}`,
      )
    }
  }
  return out
}

export async function showBilling(url: string, secretKey: Uint8Array) {
  const report = await getBilling(url, secretKey)
  return { url, report, lines: billingLines(report, url) }
}

export async function devTaxPaid(
  url: string,
  secretKey: Uint8Array,
  payment: { amount: string; reference: string },
) {
  const result = await recordDevTaxPaid(url, payment, secretKey)
  return {
    ...result,
    lines: [
      `Booked ${payment.amount} ${result.unit} of dev tax as paid (${payment.reference}); ${result.devTaxDue} still due.`,
    ],
  }
}
