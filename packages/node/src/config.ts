// The node's configuration documents itself: one table of options, each with its type,
// default, description and whether a change needs a restart. The same table validates
// input, maps environment variables (HANSA_ + the key in upper snake case) and generates
// docs/configuration.md, so the reference can never drift from the code.
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { HansaError } from '@hansa/protocol'

type OptionType = 'string' | 'integer' | 'number' | 'boolean' | 'string[]' | 'integer[]'

export type OptionSpec = {
  key: string
  type: OptionType
  default: unknown
  description: string
  restart: boolean
  choices?: readonly string[]
  min?: number
}

const opt = (
  key: string,
  type: OptionType,
  defaultValue: unknown,
  description: string,
  extra: Partial<OptionSpec> = {},
): OptionSpec => ({ key, type, default: defaultValue, description, restart: true, ...extra })

export const OPTIONS: readonly OptionSpec[] = [
  opt('dataDir', 'string', './hansa-data', 'Folder for the database, the node key and logs.'),
  opt('host', 'string', '127.0.0.1', 'Address to listen on. Use 0.0.0.0 to accept other machines.'),
  opt('port', 'integer', 7447, 'TCP port for WebSocket (Nostr) and HTTP.', { min: 0 }),
  opt(
    'publicUrl',
    'string',
    '',
    'The ws:// or wss:// URL clients use to reach this node (NIP-42 checks it). Empty: derived from host and port.',
  ),
  opt('name', 'string', 'Hansa node', 'Name shown in the NIP-11 relay information document.', {
    restart: false,
  }),
  opt('description', 'string', 'A Hansa federation node.', 'NIP-11 description.', {
    restart: false,
  }),
  opt('contact', 'string', '', 'NIP-11 contact (an email or a URL).', { restart: false }),
  opt('logLevel', 'string', 'info', 'pino log level.', {
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  }),
  opt(
    'verify.threads',
    'integer',
    Math.max(1, cpus().length),
    'Worker threads that check event signatures. 0 checks on the main thread.',
    { min: 0 },
  ),
  opt(
    'verify.backend',
    'string',
    'auto',
    'Schnorr verifier: auto picks the fastest that loads (native libsecp256k1, then WASM, then JS).',
    { choices: ['auto', 'native', 'wasm', 'noble'] },
  ),
  opt(
    'storage.synchronous',
    'string',
    'full',
    'SQLite synchronous mode. full: an acknowledged event survives power loss; normal: it survives a crash of the process.',
    { choices: ['full', 'normal'] },
  ),
  opt(
    'storage.readerThreads',
    'integer',
    Math.max(1, cpus().length),
    'Threads that answer REQ and COUNT from the store. 0 answers them on the main thread.',
    { min: 0 },
  ),
  opt(
    'storage.maxQueuedQueries',
    'integer',
    512,
    'Queries waiting for the reader threads at most; past it a REQ or COUNT is refused CLOSED "rate-limited: the node is busy…".',
    { min: 1 },
  ),
  opt(
    'storage.queryTimeoutMs',
    'integer',
    5000,
    'Time budget of one query on a reader thread; past it the thread is stopped and replaced, and the REQ is closed (CLOSED "error: …").',
    { min: 10 },
  ),
  opt('limits.maxMessageBytes', 'integer', 262144, 'Largest WebSocket message accepted.', {
    min: 1024,
  }),
  opt('limits.maxContentBytes', 'integer', 131072, 'Largest event content, in bytes.', { min: 0 }),
  opt('limits.maxEventTags', 'integer', 2000, 'Most tags on one event.', { min: 0 }),
  opt('limits.maxSubscriptions', 'integer', 20, 'Open subscriptions per connection.', { min: 1 }),
  opt('limits.maxFilters', 'integer', 10, 'Filters in one REQ or COUNT.', { min: 1 }),
  opt(
    'limits.maxFilterValues',
    'integer',
    1000,
    'Values in one filter list (ids, authors, #p...).',
    {
      min: 1,
    },
  ),
  opt('limits.maxLimit', 'integer', 500, 'Most stored events one filter returns.', { min: 1 }),
  opt('limits.defaultLimit', 'integer', 100, 'Events returned per filter when it sets no limit.', {
    min: 1,
  }),
  opt(
    'limits.maxFutureSeconds',
    'integer',
    900,
    'How far in the future created_at may be before an event is refused.',
    { min: 0 },
  ),
  opt(
    'limits.eventsPerSecond',
    'number',
    100,
    'Events one connection may publish per second (burst: twice this). An event costs one per started 2 KiB, so this is also a byte rate; past it OK false "rate-limited: …" and the connection is not read from for a second.',
    { min: 0 },
  ),
  opt(
    'limits.eventsPerSecondPerIp',
    'number',
    500,
    'Events all connections from one IP address may publish per second (burst: twice this).',
    { min: 0 },
  ),
  opt(
    'limits.maxConnectionsPerIp',
    'integer',
    200,
    'Open WebSocket connections from one IP address.',
    { min: 1 },
  ),
  opt(
    'limits.queriesPerSecond',
    'number',
    20,
    'REQ and COUNT per second per connection (burst twice that); past it CLOSED "rate-limited: …" and the connection is not read from for a second. 0 for no limit.',
    { min: 0 },
  ),
  opt(
    'limits.queriesPerSecondPerIp',
    'number',
    200,
    'REQ and COUNT per second from one IP address, all its connections together (burst twice that). 0 for no limit.',
    { min: 0 },
  ),
  opt(
    'limits.maxQueriesInFlight',
    'integer',
    4,
    'Queries one connection may have being read at once; more wait their turn (up to limits.maxSubscriptions of them, then CLOSED "rate-limited: …").',
    { min: 1 },
  ),
  opt(
    'limits.authPerSecond',
    'number',
    2,
    'AUTH messages per second per connection (burst twice that). 0 for no limit.',
    { min: 0 },
  ),
  opt(
    'limits.maxAuthKeys',
    'integer',
    8,
    'Pubkeys one connection may authenticate as (NIP-42); more AUTH is refused.',
    { min: 1 },
  ),
  opt(
    'limits.maxSendBufferBytes',
    'integer',
    4 * 1024 * 1024,
    'Bytes queued for a client that does not read before its subscriptions are closed (CLOSED "error: …"); at four times this the connection is closed. Stored results are sent in steps that stay within it.',
    { min: 65536 },
  ),
  opt(
    'limits.maxBacklog',
    'integer',
    1000,
    'Live events one subscription may hold while its stored events are read; past it the subscription is closed (CLOSED "error: …").',
    { min: 1 },
  ),
  opt(
    'limits.maxResultBytes',
    'integer',
    16 * 1024 * 1024,
    'Most bytes of stored events one REQ reads; a query stops there (EOSE follows), so one REQ cannot hold more memory.',
    { min: 65536 },
  ),
  opt('policy.allowedPubkeys', 'string[]', [], 'If not empty, only these authors may publish.', {
    restart: false,
  }),
  opt('policy.deniedPubkeys', 'string[]', [], 'Authors whose events are refused.', {
    restart: false,
  }),
  opt('policy.allowedKinds', 'integer[]', [], 'If not empty, only these kinds are accepted.', {
    restart: false,
  }),
  opt('policy.deniedKinds', 'integer[]', [], 'Kinds that are refused.', { restart: false }),
  opt('inbox.enabled', 'boolean', true, 'Run the inbox service (NIP-17 gift wraps, kind 1059).'),
  opt(
    'inbox.retentionDays',
    'number',
    30,
    'Days a gift wrap is kept after the node received it; then it is pruned.',
    { min: 0, restart: false },
  ),
  opt(
    'inbox.access',
    'string',
    'free',
    'Who may use the inbox: free (anyone), subscription (mail accepted for and served to subscribers only, billing.subscription.*) or metered (each stored gift wrap and mail query charged to the connection, billing.metered.*). Also: hansa node start --inbox-access.',
    { choices: ['free', 'subscription', 'metered'] },
  ),
  opt(
    'orderbook.enabled',
    'boolean',
    false,
    'Run the order book service (NIP-69 P2P orders, kind 38383): makers submit orders over HTTP, the node publishes them signed by its key (docs/orderbook.md).',
  ),
  opt(
    'orderbook.currencies',
    'string[]',
    ['EUR', 'USD'],
    "ISO 4217 codes the book takes orders in (the manifest's services.orderbook.currencies, when set, narrows them).",
  ),
  opt('orderbook.minSats', 'integer', 20000, 'Smallest trade, in satoshis.', { min: 1 }),
  opt('orderbook.maxSats', 'integer', 5000000, 'Largest trade, in satoshis.', { min: 1 }),
  opt(
    'orderbook.makerFee',
    'number',
    0.00025,
    "The coordinator's fee on the maker, a share of the trade (0.00025 = 0.025 %), booked with the dev tax when the order is taken.",
    { min: 0 },
  ),
  opt(
    'orderbook.takerFee',
    'number',
    0.00175,
    "The coordinator's fee on the taker, a share of the trade (0.00175 = 0.175 %).",
    { min: 0 },
  ),
  opt(
    'orderbook.bondShare',
    'number',
    0.03,
    'The bond each party locks, a share of the trade (published in the terms and the bond tag).',
    { min: 0 },
  ),
  opt(
    'orderbook.maxLifetimeSeconds',
    'integer',
    86400,
    'Longest time an order stays pending before it expires (a maker may ask for less).',
    { min: 60 },
  ),
  opt(
    'orderbook.maxOrdersPerMaker',
    'integer',
    10,
    'Pending orders one maker key may have on this node at once.',
    { min: 1, restart: false },
  ),
  opt(
    'orderbook.network',
    'string',
    'mainnet',
    'Bitcoin network of the trades (the network tag): mainnet, testnet, signet, regtest.',
  ),
  opt(
    'orderbook.layers',
    'string[]',
    ['lightning'],
    'Settlement layers the book takes (the layer tag); the first is the default.',
  ),
  opt(
    'orderbook.keepClosedSeconds',
    'integer',
    86400,
    "How long a closed order's last event (canceled, expired, success) stays before its NIP-40 expiration drops it.",
    { min: 0 },
  ),
  opt(
    'maintenance.intervalSeconds',
    'integer',
    60,
    'How often expired events (NIP-40) and mail past retention are pruned.',
    { min: 1 },
  ),
  opt(
    'federation.inviteCode',
    'string',
    '',
    "Join this federation: an invite code (hansa1…). At start the node fetches the manifest chain from the code's node URLs and verifies it against the code's federation id; it will never adopt another federation. Empty: standalone until a genesis is posted to it.",
  ),
  opt(
    'federation.chainFile',
    'string',
    '',
    "A manifest chain file (JSON array of signed manifests, oldest first) to adopt at start. Its genesis must hash to the invite code's federation id when both are set.",
  ),
  opt(
    'federation.adminPubkeys',
    'string[]',
    [],
    'Keys (hex) besides the node key whose NIP-98 requests may make this standalone node adopt a federation (a genesis draft or chain). Put the drafting guardian here, or use the setup token.',
    { restart: false },
  ),
  opt(
    'federation.setupToken',
    'string',
    '',
    'The one-time setup token a standalone node accepts (Hansa-Setup-Token header) for the genesis at the ceremony. Empty: a random one, printed at start. Spent by its first use.',
  ),
  opt(
    'federation.peers',
    'string[]',
    [],
    'More node URLs (ws://, wss://, http:// or https://) to pull the manifest from, beyond the nodes the manifest lists.',
    { restart: false },
  ),
  opt(
    'federation.syncIntervalSeconds',
    'integer',
    30,
    'How often the node pulls the manifest and pending proposals from its peers (and pushes to those behind).',
    { min: 1 },
  ),
  opt(
    'discovery.enabled',
    'boolean',
    true,
    'Announce this node on Discovery v5 (UDP) with an ENR carrying its federation id, services and WebSocket URL, and find the other nodes (docs/discovery.md).',
  ),
  opt(
    'discovery.udpPort',
    'integer',
    0,
    'UDP port for Discovery v5. 0: the same number as `port` (open TCP and UDP on one number), or a free port when `port` is 0.',
    { min: 0 },
  ),
  opt(
    'discovery.announceIp',
    'string',
    '',
    "IP address the ENR announces. Empty: `host` when it is an IP address other than 0.0.0.0 or ::, else the address the node's peers report seeing (discv5 address votes).",
  ),
  opt(
    'discovery.bootnodes',
    'string[]',
    [],
    "ENRs (enr:…) of Discovery v5 nodes to start from, besides the federation's own nodes (their ENRs are read from GET /discovery at the URLs the manifest lists).",
  ),
  opt(
    'discovery.lookupIntervalSeconds',
    'integer',
    30,
    'How often the node refreshes its Discovery v5 table: reads the ENRs of the manifest nodes and runs a random lookup.',
    { min: 1 },
  ),
  opt(
    'billing.unit',
    'string',
    'msat',
    'Unit of every price, payment and balance (amounts are whole base units of it).',
  ),
  opt(
    'billing.rail',
    'string',
    'ledger',
    'Settlement rail: ledger (cheques credited on trust, never cashed). evm and lightning are planned.',
    { choices: ['ledger', 'evm', 'lightning'] },
  ),
  opt('billing.chainId', 'integer', 31337, 'EIP-712 chain id of the cheques this node takes.', {
    min: 1,
  }),
  opt(
    'billing.devTaxRate',
    'number',
    0.2,
    "Share of every payment booked as dev tax for the dev fund (0 to 1; 0 allowed), shown to users in the terms. The default is the manifest's suggested rate.",
    { min: 0 },
  ),
  opt(
    'billing.devFundRecipient',
    'string',
    '',
    "The dev fund's address or pubkey, shown in the terms (empty: not stated).",
  ),
  opt(
    'billing.adminPubkeys',
    'string[]',
    [],
    'Pubkeys, besides the node key, that may read the books (GET /billing) and book dev tax paid.',
    { restart: false },
  ),
  opt(
    'billing.subscription.price',
    'integer',
    30000,
    'Subscription: price of one period, in base units of billing.unit.',
    { min: 1 },
  ),
  opt(
    'billing.subscription.periodDays',
    'number',
    30,
    'Subscription: length of one period, in days.',
    {
      min: 0,
    },
  ),
  opt(
    'billing.subscription.maxPeriods',
    'integer',
    12,
    'Subscription: most periods one payment buys.',
    { min: 1 },
  ),
  opt(
    'billing.subscription.maxPubkeys',
    'integer',
    10,
    "Subscription: most pubkeys (the owner's app keys) one subscription covers.",
    { min: 1 },
  ),
  opt('billing.metered.queryPrice', 'integer', 10, 'Metered: price of a REQ or COUNT answered.', {
    min: 0,
  }),
  opt('billing.metered.eventPrice', 'integer', 20, 'Metered: price of an event stored.', {
    min: 0,
  }),
  opt(
    'billing.metered.kilobytePrice',
    'integer',
    5,
    'Metered: price per 1024 bytes of events stored or served (rounded up).',
    { min: 0 },
  ),
  opt(
    'billing.metered.paymentThreshold',
    'integer',
    10000,
    'Metered: a client pays with a cheque once it owes this much.',
    { min: 1 },
  ),
  opt(
    'billing.metered.disconnectThreshold',
    'integer',
    0,
    'Metered: a client owing more than this is refused (payment-required:). 0: the payment threshold plus 25 %.',
    { min: 0 },
  ),
  opt(
    'billing.metered.swap',
    'string',
    'mock',
    'Metered: soft (account and log, never refuse), mock (cheques checked and credited, never cashed; refuse past the disconnect threshold) or hard (cashed on chain: needs the evm rail).',
    { choices: ['soft', 'mock', 'hard'] },
  ),
]

export type NodeConfig = {
  dataDir: string
  host: string
  port: number
  publicUrl: string
  name: string
  description: string
  contact: string
  logLevel: string
  verify: { threads: number; backend: 'auto' | 'native' | 'wasm' | 'noble' }
  storage: {
    synchronous: 'full' | 'normal'
    readerThreads: number
    maxQueuedQueries: number
    queryTimeoutMs: number
  }
  limits: {
    maxMessageBytes: number
    maxContentBytes: number
    maxEventTags: number
    maxSubscriptions: number
    maxFilters: number
    maxFilterValues: number
    maxLimit: number
    defaultLimit: number
    maxFutureSeconds: number
    eventsPerSecond: number
    eventsPerSecondPerIp: number
    maxConnectionsPerIp: number
    queriesPerSecond: number
    queriesPerSecondPerIp: number
    maxQueriesInFlight: number
    authPerSecond: number
    maxAuthKeys: number
    maxSendBufferBytes: number
    maxBacklog: number
    maxResultBytes: number
  }
  policy: {
    allowedPubkeys: string[]
    deniedPubkeys: string[]
    allowedKinds: number[]
    deniedKinds: number[]
  }
  inbox: {
    enabled: boolean
    retentionDays: number
    access: 'free' | 'subscription' | 'metered'
  }
  orderbook: {
    enabled: boolean
    currencies: string[]
    minSats: number
    maxSats: number
    makerFee: number
    takerFee: number
    bondShare: number
    maxLifetimeSeconds: number
    maxOrdersPerMaker: number
    network: string
    layers: string[]
    keepClosedSeconds: number
  }
  maintenance: { intervalSeconds: number }
  federation: {
    inviteCode: string
    chainFile: string
    adminPubkeys: string[]
    setupToken: string
    peers: string[]
    syncIntervalSeconds: number
  }
  discovery: {
    enabled: boolean
    udpPort: number
    announceIp: string
    bootnodes: string[]
    lookupIntervalSeconds: number
  }
  billing: {
    unit: string
    rail: 'ledger' | 'evm' | 'lightning'
    chainId: number
    devTaxRate: number
    devFundRecipient: string
    adminPubkeys: string[]
    subscription: { price: number; periodDays: number; maxPeriods: number; maxPubkeys: number }
    metered: {
      queryPrice: number
      eventPrice: number
      kilobytePrice: number
      paymentThreshold: number
      disconnectThreshold: number
      swap: 'soft' | 'mock' | 'hard'
    }
  }
}

export class ConfigError extends HansaError {
  override name = 'ConfigError'
  constructor(message: string, details?: string) {
    super('HANSA_CONFIG_INVALID', message, details === undefined ? {} : { details })
  }
}

export const envName = (key: string): string =>
  `HANSA_${key
    .replace(/\./g, '_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase()}`

function coerce(spec: OptionSpec, value: unknown, source: string): unknown {
  const fail = (what: string) =>
    new ConfigError(`${spec.key} (from ${source}) must be ${what}; got ${JSON.stringify(value)}`)
  const fromString = typeof value === 'string'
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') throw fail('a string')
      if (spec.choices && !spec.choices.includes(value)) {
        throw fail(`one of ${spec.choices.join(', ')}`)
      }
      return value
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (value === 'true' || value === '1') return true
      if (value === 'false' || value === '0') return false
      throw fail('true or false')
    case 'integer':
    case 'number': {
      const n = fromString && value.trim() !== '' ? Number(value) : value
      if (typeof n !== 'number' || !Number.isFinite(n)) throw fail('a number')
      if (spec.type === 'integer' && !Number.isInteger(n)) throw fail('a whole number')
      if (spec.min !== undefined && n < spec.min) throw fail(`at least ${spec.min}`)
      return n
    }
    case 'string[]':
    case 'integer[]': {
      const list = fromString
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : value
      if (!Array.isArray(list)) throw fail('a list')
      if (spec.type === 'string[]') {
        if (!list.every((x) => typeof x === 'string')) throw fail('a list of strings')
        return list
      }
      const nums = list.map((x) => (typeof x === 'string' ? Number(x) : x))
      if (!nums.every((x) => Number.isInteger(x))) throw fail('a list of whole numbers')
      return nums
    }
  }
}

function getPath(obj: Record<string, unknown>, key: string): unknown {
  let cur: unknown = obj
  for (const part of key.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) {
    cur[part] ??= {}
    cur = cur[part] as Record<string, unknown>
  }
  cur[parts.at(-1)!] = value
}

function unknownKeys(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return []
  const out: string[] = []
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (OPTIONS.some((o) => o.key === key)) continue
    if (OPTIONS.some((o) => o.key.startsWith(`${key}.`))) out.push(...unknownKeys(v, key))
    else out.push(key)
  }
  return out
}

export type ConfigSources = {
  /** Parsed config file contents (JSON). */
  file?: Record<string, unknown>
  filePath?: string
  env?: Record<string, string | undefined>
  /** Values from command-line flags, by option key. */
  flags?: Record<string, unknown>
}

/** Defaults, then the file, then the environment, then flags: the later wins. */
export function resolveConfig(sources: ConfigSources = {}): NodeConfig {
  const out: Record<string, unknown> = {}
  const unknown = unknownKeys(sources.file)
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown option${unknown.length > 1 ? 's' : ''} in ${sources.filePath ?? 'the config file'}: ${unknown.join(', ')}`,
      'docs/configuration.md lists every option.',
    )
  }
  for (const spec of OPTIONS) {
    let value: unknown = spec.default
    const fromFile = sources.file ? getPath(sources.file, spec.key) : undefined
    if (fromFile !== undefined) value = coerce(spec, fromFile, sources.filePath ?? 'config file')
    const fromEnv = sources.env?.[envName(spec.key)]
    if (fromEnv !== undefined && fromEnv !== '') {
      value = coerce(spec, fromEnv, `environment ${envName(spec.key)}`)
    }
    const fromFlag = sources.flags?.[spec.key]
    if (fromFlag !== undefined) value = coerce(spec, fromFlag, 'command line')
    setPath(out, spec.key, Array.isArray(value) ? [...value] : value)
  }
  return out as NodeConfig
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}`, (cause as Error).message)
  }
  try {
    const parsed = JSON.parse(text)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('the top level must be a JSON object')
    }
    return parsed
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid JSON`, (cause as Error).message)
  }
}

/** The configuration reference in Markdown, generated from OPTIONS. */
export function configurationMarkdown(): string {
  const rows = OPTIONS.map((o) => {
    const def =
      o.key === 'verify.threads' || o.key === 'storage.readerThreads'
        ? 'number of CPU cores'
        : JSON.stringify(o.default)
    const choices = o.choices ? ` One of: ${o.choices.join(', ')}.` : ''
    return `| \`${o.key}\` | \`${envName(o.key)}\` | ${o.type} | \`${def}\` | ${o.restart ? 'yes' : 'no'} | ${o.description}${choices} |`
  })
  return [
    '| option (config file key) | environment | type | default | restart | description |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n')
}

export type ReloadResult = { applied: string[]; needRestart: string[] }

/**
 * Copies the options that take effect without a restart from `next` into `current` (the
 * running node reads `current`), and lists those that differ but need a restart.
 * `next` is a fully resolved config: a bad file never reaches here, so the old one stays.
 */
export function applyReload(current: NodeConfig, next: NodeConfig): ReloadResult {
  const applied: string[] = []
  const needRestart: string[] = []
  const root = current as unknown as Record<string, unknown>
  for (const spec of OPTIONS) {
    const before = getPath(root, spec.key)
    const after = getPath(next as unknown as Record<string, unknown>, spec.key)
    if (JSON.stringify(before) === JSON.stringify(after)) continue
    if (spec.restart) needRestart.push(spec.key)
    else {
      setPath(root, spec.key, after)
      applied.push(spec.key)
    }
  }
  return { applied, needRestart }
}
