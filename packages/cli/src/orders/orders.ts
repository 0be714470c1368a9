// The order-book commands as functions that return data (the command modules print it): the
// joint book of a federation, and make, take, cancel, complete on it. The federation is named
// by an invite code (its chain is fetched and verified against the federation id), by a node
// (the chain it follows, verified from its own genesis), or by a devnet folder's devnet.json.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  type ClientStore,
  type JointBook,
  type JointOrder,
  ManifestStore,
  type TrustedCoordinators,
  customRelaysOf,
  defaultClientConfigPath,
  fileClientStore,
  trustedCoordinatorsOf,
  type OrderBook,
  type OrderFilter,
  type OrderRef,
  coordinatorsFromManifest,
  createOrderBook,
  getFederation,
  memoryHeadStorage,
} from '@hansa/client'
import {
  HansaError,
  type Manifest,
  type OrderSide,
  type OrderStatus,
  decodeInviteCode,
  formatPpm,
} from '@hansa/protocol'
import { userKey } from '../billing/billing.js'
import { DEFAULT_DEVNET_DIR } from '../federation/devnet.js'

export type FederationOptions = { invite?: string; node?: string; devnet?: string }

export type ResolvedFederation = {
  federationId: string
  manifest: Manifest
  /** Where the chain came from. */
  source: string
}

const expected = (message: string, details?: string) =>
  new HansaError('HANSA_ORDERS_USAGE', message, details === undefined ? {} : { details })

/** The invite code of a devnet folder, if it has one. */
function devnetInvite(dir: string): string | undefined {
  const file = join(resolve(dir), 'devnet.json')
  if (!existsSync(file)) return undefined
  return (JSON.parse(readFileSync(file, 'utf8')) as { inviteCode?: string }).inviteCode
}

/** Fetches and verifies the manifest chain of the federation the options name. */
export async function resolveFederation(opts: FederationOptions): Promise<ResolvedFederation> {
  let federationId: string
  let urls: string[]
  let source: string
  const invite =
    opts.invite ?? (opts.node ? undefined : devnetInvite(opts.devnet ?? DEFAULT_DEVNET_DIR))
  if (invite !== undefined) {
    const code = decodeInviteCode(invite)
    federationId = code.federationId
    urls = code.urls
    source =
      opts.invite !== undefined
        ? 'the invite code'
        : `${opts.devnet ?? DEFAULT_DEVNET_DIR}/devnet.json`
  } else if (opts.node !== undefined) {
    const info = await getFederation(opts.node, { timeoutMs: 5000 })
    if (info.federationId === null) {
      throw expected(`${opts.node} belongs to no federation, so it has no joint order book`)
    }
    federationId = info.federationId
    urls = [opts.node]
    source = opts.node
  } else {
    throw expected(
      'which federation? Pass --invite CODE (hansa devnet prints one), --node URL, or --devnet DIR',
      `No devnet.json in ${resolve(opts.devnet ?? DEFAULT_DEVNET_DIR)}.`,
    )
  }
  const store = new ManifestStore({ federationId, storage: memoryHeadStorage() })
  const problems: string[] = []
  for (const url of urls) {
    const update = await store.refreshFrom(url)
    if (update.ok) return { federationId, manifest: update.head.signed.manifest, source }
    problems.push(`${url}: ${update.error.message}`)
  }
  throw new HansaError(
    'HANSA_ORDERS_FEDERATION',
    `could not read a verified manifest of federation ${federationId.slice(0, 12)}… from ${source}`,
    { details: problems.join('; ') },
  )
}

export type BookOptions = FederationOptions & {
  key?: string
  perCoordinatorKeys?: boolean
  /** Coordinators (alias or pubkey) to leave out. */
  without?: string[]
  timeout?: string
  /** Read the whole book from this many member nodes (docs/replication.md). */
  sources?: string
}

/**
 * The client store of the federation the user joined (`hansa join`), when no flag names
 * another: its verified head and her trust list.
 */
function joinedStore(opts: FederationOptions): ClientStore | undefined {
  if (opts.invite !== undefined || opts.node !== undefined || opts.devnet !== undefined) {
    return undefined
  }
  const path = defaultClientConfigPath(process.env)
  if (!existsSync(path)) return undefined
  const store = fileClientStore(path)
  return store.load().federation?.head ? store : undefined
}

/** Leaves out the coordinators named by --without (alias or pubkey). */
const without = (source: TrustedCoordinators, names: readonly string[]): TrustedCoordinators => ({
  async coordinators() {
    const off = new Set(names)
    return (await source.coordinators()).map((c) =>
      off.has(c.alias) || off.has(c.pubkey) ? { ...c, enabled: false } : c,
    )
  },
})

/**
 * The joint book of the named federation — or of the one the user joined, with her trust
 * list — acting as the user's key when given.
 */
export async function openBook(opts: BookOptions, withKey: boolean): Promise<OrderBook> {
  const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout)
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw expected('--timeout is milliseconds, more than 0')
  }
  const sources = opts.sources === undefined ? undefined : Number(opts.sources)
  if (sources !== undefined && !(Number.isInteger(sources) && sources > 0)) {
    throw expected('--sources is a number of member nodes, 1 or more')
  }
  const joined = joinedStore(opts)
  let coordinators: TrustedCoordinators
  let relays: (() => string[]) | undefined
  if (joined) {
    coordinators = trustedCoordinatorsOf(joined)
    relays = customRelaysOf(joined)
  } else {
    const { manifest } = await resolveFederation(opts)
    coordinators = { coordinators: () => coordinatorsFromManifest(manifest) }
  }
  return createOrderBook({
    coordinators: without(coordinators, opts.without ?? []),
    ...(relays === undefined ? {} : { relays }),
    ...(withKey
      ? { identity: { secretKey: userKey(opts), perCoordinator: opts.perCoordinatorKeys === true } }
      : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(sources === undefined ? {} : { sources }),
  })
}

export type ListOptions = BookOptions & {
  currency?: string
  side?: string
  method?: string
  coordinator?: string
  status?: string
}

export function filterOf(opts: ListOptions): OrderFilter {
  if (opts.side !== undefined && opts.side !== 'buy' && opts.side !== 'sell') {
    throw expected('--side is buy or sell (of bitcoin)')
  }
  const filter: OrderFilter = {}
  if (opts.currency !== undefined) {
    filter.currency = opts.currency.split(',').map((c) => c.trim().toUpperCase())
  }
  if (opts.side !== undefined) filter.side = opts.side as OrderSide
  if (opts.method !== undefined) filter.paymentMethod = opts.method
  if (opts.coordinator !== undefined) filter.coordinator = opts.coordinator
  if (opts.status !== undefined) filter.status = opts.status.split(',') as OrderStatus[]
  return filter
}

/** `hansa orders`: the joint book. */
export async function listJointBook(opts: ListOptions): Promise<JointBook> {
  const book = await openBook(opts, false)
  return book.list(filterOf(opts))
}

const amountOf = (o: JointOrder) =>
  `${o.order.fiatAmount.join('–')}${o.order.amount > 0 ? ` (${o.order.amount} sats)` : ''}`

const ago = (seconds: number) =>
  seconds < 90
    ? `${seconds} s`
    : seconds < 5400
      ? `${Math.round(seconds / 60)} min`
      : `${Math.round(seconds / 3600)} h`

/** The table's header: a status column only when the book holds more than pending orders. */
export function bookHead(book: JointBook): string[] {
  const head = ['side', 'amount', 'currency', 'premium', 'payment methods', 'coordinator']
  head.push('fees (maker / taker)', 'order id')
  return withStatus(book) ? ['status', ...head] : head
}

const withStatus = (book: JointBook) => book.orders.some((o) => o.order.status !== 'pending')

/** The book as table rows (side, amount, currency, premium, methods, coordinator, fees, id). */
export function bookRows(book: JointBook): string[][] {
  const status = withStatus(book)
  return book.orders.map((o) => [
    ...(status ? [o.order.status] : []),
    o.order.side,
    amountOf(o),
    o.order.currency,
    `${o.order.premium > 0 ? '+' : ''}${o.order.premium} %`,
    o.order.paymentMethods.join(', '),
    `${o.coordinator.alias}${o.stale ? ` (stale, seen ${o.lastSeen === null ? 'never' : `${ago(book.at - o.lastSeen)} ago`})` : ''}`,
    o.terms === null
      ? '?'
      : `${formatPpm(o.terms.makerFeePpm)} / ${formatPpm(o.terms.takerFeePpm)}`,
    o.id,
  ])
}

/** The lines under the table: coordinators not live, orders left out. */
export function bookNotes(book: JointBook): string[] {
  const notes: string[] = []
  for (const c of book.coordinators) {
    if (c.state === 'stale') {
      notes.push(
        `${c.alias}: no answer (${c.error ?? 'unknown'})${c.lastSeen === null ? '' : `; its orders are as last seen ${ago(book.at - c.lastSeen)} ago`}`,
      )
    } else if (c.state === 'disabled') notes.push(`${c.alias}: turned off (--without)`)
    else if (c.state === 'no-book') notes.push(`${c.alias}: runs no order book`)
  }
  for (const x of book.excluded)
    notes.push(`left out ${x.id || '(no id)'} from ${x.relay}: ${x.reason}`)
  return notes
}

export type MakeOptions = BookOptions & {
  coordinator: string
  side: string
  currency: string
  fiat: string
  fiatMax?: string
  sats?: string
  method: string[]
  premium?: string
  expiresIn?: string
  name?: string
  layer?: string
}

const num = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n)) throw expected(`${flag} must be a number; got ${value}`)
  return n
}

/** `hansa orders make`. */
export async function makeJointOrder(opts: MakeOptions) {
  if (opts.side !== 'buy' && opts.side !== 'sell')
    throw expected('--side is buy or sell (of bitcoin)')
  if ((opts.method ?? []).length === 0)
    throw expected('name a payment method with --method (repeat for more)')
  const book = await openBook(opts, true)
  const fiat = num('--fiat', opts.fiat)!
  const max = num('--fiat-max', opts.fiatMax)
  const sats = num('--sats', opts.sats)
  const premium = num('--premium', opts.premium)
  const expiresIn = num('--expires-in', opts.expiresIn)
  return book.make({
    coordinator: opts.coordinator,
    side: opts.side,
    currency: opts.currency.toUpperCase(),
    fiatAmount: max === undefined ? fiat : [fiat, max],
    paymentMethods: opts.method,
    ...(sats === undefined ? {} : { sats }),
    ...(premium === undefined ? {} : { premium }),
    ...(expiresIn === undefined ? {} : { expiresIn }),
    ...(opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.layer === undefined ? {} : { layer: opts.layer }),
  })
}

/**
 * The order `id` in the joint book, in one of `statuses`; with `coordinator`, an order the book
 * does not show (its coordinator is slow to answer) is still sent there by id.
 */
async function findOrder(
  book: OrderBook,
  id: string,
  statuses: OrderStatus[],
  coordinator?: string,
): Promise<OrderRef> {
  const view = await book.list({
    status: statuses,
    ...(coordinator === undefined ? {} : { coordinator }),
  })
  const found = view.orders.find((o) => o.id === id)
  if (found !== undefined) return found
  if (coordinator !== undefined) return { id, coordinator }
  throw expected(
    `no ${statuses.join(' or ')} order ${id} in the joint book`,
    'hansa orders lists it (--status to see others); --coordinator sends the request to a coordinator by name.',
  )
}

const coordinatorOf = (ref: OrderRef) =>
  typeof ref.coordinator === 'string' ? { alias: ref.coordinator } : ref.coordinator

export type ActOptions = BookOptions & {
  id: string
  coordinator?: string
  fiat?: string
  sats?: string
}

/** `hansa orders take`. */
export async function takeJointOrder(opts: ActOptions) {
  const book = await openBook(opts, true)
  const order = await findOrder(book, opts.id, ['pending'], opts.coordinator)
  const fiat = num('--fiat', opts.fiat)
  const sats = num('--sats', opts.sats)
  const receipt = await book.take({
    order,
    ...(fiat === undefined ? {} : { fiatAmount: fiat }),
    ...(sats === undefined ? {} : { sats }),
  })
  return { coordinator: coordinatorOf(order), ...receipt }
}

/** `hansa orders cancel`. */
export async function cancelJointOrder(opts: ActOptions) {
  const book = await openBook(opts, true)
  const order = await findOrder(book, opts.id, ['pending'], opts.coordinator)
  return { coordinator: coordinatorOf(order), ...(await book.cancel({ order })) }
}

/** `hansa orders confirm`: the maker confirms a take. */
export async function confirmJointOrder(opts: ActOptions) {
  const book = await openBook(opts, true)
  const order = await findOrder(book, opts.id, ['in-progress'], opts.coordinator)
  return { coordinator: coordinatorOf(order), ...(await book.confirm({ order })) }
}

/** `hansa orders complete`. */
export async function completeJointOrder(opts: ActOptions) {
  const book = await openBook(opts, true)
  const order = await findOrder(book, opts.id, ['in-progress'], opts.coordinator)
  return { coordinator: coordinatorOf(order), ...(await book.complete({ order })) }
}
