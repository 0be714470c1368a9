// The user's commands on the SDK (HansaClient), as functions that return data; the command
// modules print it, and `--json` prints the very same data. The client's state — the joined
// federation, the verified manifest head, the trust list, the inbox nodes, the SWAP books —
// lives in one file, `--config` (default $HANSA_CLIENT_CONFIG or ~/.config/hansa/client.json);
// the user's key in `--key` (default user.key beside it, created on first use, mode 0600).
import { dirname, join } from 'node:path'
import {
  type HansaClient,
  type InboxMessage,
  type InboxReadResult,
  type InboxSendResult,
  type JoinResult,
  type ListNodesResult,
  type NodeReport,
  type Policy,
  POLICIES,
  type SubscribeResult,
  type TrustList,
  type WatchStatus,
  addCustomNode,
  createHansaClient,
  defaultClientConfigPath,
  fileClientStore,
  removeCustomNode,
  resetCoordinator,
  setCoordinator,
  setDefaultCoordinator,
  setPreferCustom,
} from '@hansa/client'
import { loadOrCreateKeyFile } from '@hansa/node'
import { HansaError, type ServiceTerms, formatBps, isHex64 } from '@hansa/protocol'
import { nip19 } from 'nostr-tools'

export type UserOptions = {
  /** The client state file. */
  config?: string
  /** The user's key file. */
  key?: string
  /** Run Discovery v5 lookups (default true). */
  discv5?: boolean
  /** The process environment, for the default paths (passed in; tests give their own). */
  env?: Record<string, string | undefined>
  /** Check nodes against the on-chain registry on this chain (JSON-RPC URL). */
  registryRpc?: string
  /** Reject nodes the registry does not list. */
  requireRegistry?: boolean
}

export const configPathOf = (opts: UserOptions) =>
  opts.config ?? defaultClientConfigPath(opts.env ?? process.env)
export const keyPathOf = (opts: UserOptions) =>
  opts.key ?? join(dirname(configPathOf(opts)), 'user.key')

const usage = (message: string, details?: string) =>
  new HansaError('HANSA_USAGE', message, details === undefined ? {} : { details })

/** A client on the user's state file; with `withKey`, her key (created when missing). */
export function openClient(opts: UserOptions, withKey = false): HansaClient {
  const secretKey = withKey ? loadOrCreateKeyFile(keyPathOf(opts)).secretKey : undefined
  return createHansaClient({
    store: fileClientStore(configPathOf(opts)),
    ...(secretKey ? { secretKey } : {}),
    discv5: { enabled: opts.discv5 ?? true },
    ...(opts.registryRpc
      ? { registry: { rpcUrl: opts.registryRpc, required: opts.requireRegistry ?? false } }
      : {}),
  })
}

// ---------------------------------------------------------------------------------------------
// hansa join

export type JoinOutput = JoinResult & { config: string }

export async function joinCommand(inviteCode: string, opts: UserOptions): Promise<JoinOutput> {
  const client = openClient(opts)
  return { ...(await client.join({ inviteCode })), config: configPathOf(opts) }
}

export function joinLines(r: JoinOutput): string[] {
  return [
    `Joined ${r.name} (federation ${r.federationId.slice(0, 16)}…), manifest version ${r.version} verified, valid until ${new Date(r.expiresAt * 1000).toISOString().slice(0, 10)}.`,
    ...(r.replaced ? [`It replaces federation ${r.replaced.slice(0, 16)}…, joined before.`] : []),
    `Coordinators: ${r.coordinators.map((c) => `${c.alias} (${c.nodes} node${c.nodes === 1 ? '' : 's'})`).join(', ')}.`,
    ...r.fetched.filter((f) => !f.ok).map((f) => `  ${f.url}: ${f.error}`),
    ...r.forks.map((f) => `  FORK at version ${f.version} from ${f.source}: tell the guardians`),
    `Saved in ${r.config}. Next: hansa nodes`,
  ]
}

// ---------------------------------------------------------------------------------------------
// hansa nodes

/** One row of `hansa nodes`: what the table shows, as data. */
export type NodeRow = {
  coordinator: string | null
  url: string
  pubkey: string | null
  services: string[]
  /** `price unit / period` per subscription service. */
  pricePerPeriod: Record<string, string>
  /** Metered prices per metered service. */
  meteredPrices: Record<string, { query: string; event: string; kilobyte: string; unit: string }>
  devTax: string | null
  rttMs: number | null
  status: NodeReport['status']
  reason: string | null
  sources: NodeReport['sources']
}

export type NodesOutput = Omit<ListNodesResult, 'nodes'> & {
  nodes: (NodeRow & { registry: string | null })[]
}

const periodText = (seconds: number) =>
  seconds % 86_400 === 0 ? `${seconds / 86_400}d` : `${seconds}s`

export function nodeRow(n: NodeReport): NodeRow {
  const pricePerPeriod: NodeRow['pricePerPeriod'] = {}
  const meteredPrices: NodeRow['meteredPrices'] = {}
  for (const [service, t] of Object.entries(n.terms?.services ?? {}) as [string, ServiceTerms][]) {
    if (t.access === 'subscription') {
      pricePerPeriod[service] = `${t.price} ${t.unit}/${periodText(t.periodSeconds)}`
    } else if (t.access === 'metered') meteredPrices[service] = { ...t.prices, unit: t.unit }
    else pricePerPeriod[service] = 'free'
  }
  return {
    coordinator: n.coordinator?.alias ?? null,
    url: n.url,
    pubkey: n.pubkey,
    services: n.services,
    pricePerPeriod,
    meteredPrices,
    devTax: n.terms ? formatBps(n.terms.devTax.rateBps) : null,
    rttMs: n.rttMs,
    status: n.status,
    reason: n.reason,
    sources: n.sources,
  }
}

export async function nodesCommand(opts: UserOptions): Promise<NodesOutput> {
  const client = openClient(opts)
  const result = await client.listNodes({ refresh: true })
  return {
    ...result,
    nodes: result.nodes.map((n) => ({
      ...nodeRow(n),
      registry:
        result.registry && n.pubkey !== null
          ? result.registry.listed[n.pubkey]
            ? result.registry.state
            : 'unlisted'
          : null,
    })),
  }
}

export function nodesTableRows(r: NodesOutput): string[][] {
  return r.nodes.map((n) => [
    n.coordinator ?? (n.status === 'custom' ? '(yours)' : '-'),
    n.url,
    n.services.join(',') || '-',
    Object.entries(n.pricePerPeriod)
      .map(([s, p]) => `${s}: ${p}`)
      .join('\n') || '-',
    Object.entries(n.meteredPrices)
      .map(([s, p]) => `${s}: ${p.query}/q ${p.event}/ev ${p.kilobyte}/KB ${p.unit}`)
      .join('\n') || '-',
    n.devTax ?? '-',
    n.rttMs === null ? '-' : `${n.rttMs} ms`,
    n.reason ? `${n.status}: ${n.reason}` : n.status,
  ])
}

export const NODES_HEAD = [
  'coordinator',
  'node',
  'services',
  'price per period',
  'metered',
  'dev tax',
  'round trip',
  'status',
]

// ---------------------------------------------------------------------------------------------
// hansa trust

export type TrustAction =
  | { action: 'show' }
  | { action: 'enable' | 'disable' | 'reset'; coordinator: string }
  | { action: 'add-node'; url: string; pubkey?: string; note?: string }
  | { action: 'remove-node'; url: string }
  | { action: 'default'; choice: string }
  | { action: 'prefer-custom'; value: string }

export type TrustOutput = {
  trust: TrustList
  /** The coordinators of the joined federation and whether the list enables them. */
  coordinators: Array<{ alias: string; pubkey: string; enabled: boolean; choice: string }>
  changed: string | null
}

export function trustCommand(action: TrustAction, opts: UserOptions): TrustOutput {
  const client = openClient(opts)
  const manifest = client.store.load().federation?.head?.signed.manifest
  const coordinatorKey = (ref: string) => {
    if (isHex64(ref)) return ref
    const found = manifest?.coordinators.find((c) => c.alias === ref)
    if (!found) {
      throw usage(
        `no coordinator ${ref} in the joined federation`,
        manifest
          ? `Its coordinators: ${manifest.coordinators.map((c) => c.alias).join(', ')}. A pubkey (64 hex) works for any coordinator.`
          : 'Join a federation first (hansa join), or give the coordinator pubkey (64 hex).',
      )
    }
    return found.pubkey
  }
  let changed: string | null = null
  switch (action.action) {
    case 'show':
      break
    case 'enable':
    case 'disable': {
      const key = coordinatorKey(action.coordinator)
      client.updateTrust((t) => setCoordinator(t, key, `${action.action}d` as 'enabled'))
      changed = `${action.coordinator} ${action.action}d`
      break
    }
    case 'reset': {
      const key = coordinatorKey(action.coordinator)
      client.updateTrust((t) => resetCoordinator(t, key))
      changed = `${action.coordinator} follows the default again`
      break
    }
    case 'add-node':
      client.updateTrust((t) =>
        addCustomNode(t, {
          url: action.url,
          ...(action.pubkey ? { pubkey: action.pubkey } : {}),
          ...(action.note ? { note: action.note } : {}),
        }),
      )
      changed = `added ${action.url}`
      break
    case 'remove-node':
      client.updateTrust((t) => removeCustomNode(t, action.url))
      changed = `removed ${action.url}`
      break
    case 'default':
      if (action.choice !== 'enabled' && action.choice !== 'disabled') {
        throw usage(
          'the default is enabled (trust every coordinator but those disabled) or disabled (only those enabled)',
        )
      }
      client.updateTrust((t) => setDefaultCoordinator(t, action.choice as 'enabled'))
      changed = `coordinators not named are ${action.choice}`
      break
    case 'prefer-custom':
      if (action.value !== 'on' && action.value !== 'off')
        throw usage('prefer-custom takes on or off')
      client.updateTrust((t) => setPreferCustom(t, action.value === 'on'))
      changed = `your own nodes ${action.value === 'on' ? 'come first' : 'are ranked with the others'}`
      break
  }
  const trust = client.trustList()
  return {
    trust,
    coordinators: (manifest?.coordinators ?? []).map((c) => {
      const choice = trust.coordinators[c.pubkey]
      return {
        alias: c.alias,
        pubkey: c.pubkey,
        enabled: (choice ?? trust.defaultCoordinator) === 'enabled',
        choice: choice ?? `default (${trust.defaultCoordinator})`,
      }
    }),
    changed,
  }
}

export function trustLines(r: TrustOutput): string[] {
  return [
    ...(r.changed ? [`${r.changed}.`] : []),
    `Coordinators not named: ${r.trust.defaultCoordinator}.`,
    ...r.coordinators.map(
      (c) => `  ${c.enabled ? '✓' : '✗'} ${c.alias} ${c.pubkey.slice(0, 16)}… ${c.choice}`,
    ),
    r.trust.customNodes.length === 0
      ? 'Your own nodes: none (hansa trust add-node URL).'
      : `Your own nodes${r.trust.preferCustom ? ' (chosen first)' : ''}:`,
    ...r.trust.customNodes.map(
      (n) =>
        `  ${n.url}${n.pubkey ? ` key ${n.pubkey.slice(0, 16)}…` : ''}${n.note ? ` — ${n.note}` : ''}`,
    ),
  ]
}

// ---------------------------------------------------------------------------------------------
// hansa subscribe

export type SubscribeOptions = UserOptions & {
  service?: string
  periods?: string
  node?: string
  count?: string
  policy?: string
  rpcUrl?: string
}

export type SubscribeOutput = SubscribeResult & { pubkey: string; npub: string }

const wholeNumber = (value: string | undefined, name: string, fallback: number) => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw usage(`${name} must be a whole number ≥ 1`)
  return n
}

export function policyOf(value: string | undefined): Policy | undefined {
  if (value === undefined) return undefined
  if (!(POLICIES as readonly string[]).includes(value)) {
    throw usage(`--policy must be one of ${POLICIES.join(', ')}`)
  }
  return value as Policy
}

export async function subscribeCommand(opts: SubscribeOptions): Promise<SubscribeOutput> {
  const client = openClient(opts, true)
  const policy = policyOf(opts.policy)
  const result = await client.subscribe({
    service: opts.service ?? 'inbox',
    periods: wholeNumber(opts.periods, '--periods', 1),
    count: wholeNumber(opts.count, '--count', 1),
    ...(opts.node ? { node: opts.node } : {}),
    ...(policy ? { policy } : {}),
    ...(opts.rpcUrl || process.env.HANSA_RPC_URL
      ? { rpcUrl: opts.rpcUrl ?? process.env.HANSA_RPC_URL }
      : {}),
  })
  return { ...result, pubkey: client.pubkey!, npub: nip19.npubEncode(client.pubkey!) }
}

export function subscribeLines(r: SubscribeOutput): string[] {
  return [
    ...r.subscriptions.map((s) =>
      s.access === 'subscription'
        ? `Paid ${s.receipt!.payment.amount} ${s.receipt!.payment.unit} to ${s.coordinator ?? 'your node'} (${s.url}) for ${s.receipt!.payment.periods} period(s) of ${r.service}, until ${s.receipt!.subscription.expires}.`
        : s.access === 'metered'
          ? `${s.url} (${s.coordinator ?? 'your node'}) meters ${r.service}: you pay by cheque as you use it.`
          : `${s.url} (${s.coordinator ?? 'your node'}) offers ${r.service} for free.`,
    ),
    ...r.attempts.map((a) => `  skipped ${a.url}: ${a.error}`),
    ...(r.inboxRelays
      ? [
          `Your inbox nodes: ${r.inboxRelays.join(', ')}.`,
          `Published your inbox relay list (kind 10050) to ${r.published?.published.filter((p) => p.ok).length ?? 0} node(s).`,
          `People write to you at ${r.npub}.`,
        ]
      : []),
  ]
}

// ---------------------------------------------------------------------------------------------
// hansa inbox send / read

export type InboxSendOptions = UserOptions & { subject?: string }

export async function inboxSendCommand(
  recipient: string,
  message: string,
  opts: InboxSendOptions,
): Promise<InboxSendResult> {
  const client = openClient(opts, true)
  return client.inbox.send({
    recipient,
    message,
    ...(opts.subject ? { subject: opts.subject } : {}),
  })
}

export function inboxSendLines(r: InboxSendResult): string[] {
  const ok = r.delivered.filter((d) => d.ok)
  return [
    `Sent to ${r.recipient.slice(0, 16)}… at ${ok.length} of ${r.delivered.length} of her inbox nodes (gift wrap ${r.wrapId.slice(0, 16)}…).`,
    ...r.delivered.filter((d) => !d.ok).map((d) => `  ${d.url}: ${d.message}`),
  ]
}

export type InboxReadOptions = UserOptions & { all?: boolean }

export async function inboxReadCommand(opts: InboxReadOptions): Promise<InboxReadResult> {
  const client = openClient(opts, true)
  return client.inbox.read(opts.all ? { all: true } : {})
}

const when = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z')

export const messageLine = (m: InboxMessage) =>
  `${when(m.createdAt)}  ${nip19.npubEncode(m.from).slice(0, 20)}…  ${m.subject ? `[${m.subject}] ` : ''}${m.content}`

export function inboxReadLines(r: InboxReadResult): string[] {
  return [
    ...r.messages.map(messageLine),
    `${r.messages.length} message(s), from ${r.servedBy.join(', ')}${r.attempts.length ? `; failed over from ${r.attempts.map((a) => `${a.url} (${a.error})`).join(', ')}` : ''}.`,
  ]
}

/** Live mode: messages and node changes as they happen, until `signal` aborts. */
export async function inboxWatchCommand(
  opts: UserOptions,
  on: { message: (m: InboxMessage) => void; status: (s: WatchStatus) => void },
  signal: AbortSignal,
): Promise<void> {
  const client = openClient(opts, true)
  const watch = client.inbox.watch({ onMessage: on.message, onStatus: on.status })
  signal.addEventListener('abort', () => watch.stop(), { once: true })
  await watch.done
}

export function statusLine(s: WatchStatus): string {
  switch (s.kind) {
    case 'serving':
      return `-- live on ${s.url}${s.afterLossMs === null ? '' : ` (took over ${s.afterLossMs} ms after the last node was lost)`}`
    case 'lost':
      return `-- lost ${s.url}: ${s.reason}; failing over`
    case 'failed':
      return `-- ${s.url || 'inbox'}: ${s.reason}`
  }
}
