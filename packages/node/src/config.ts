// The node's configuration documents itself: one TypeBox schema, assembled here from the
// options each part declares beside its code (option kit: config/option.ts), gives every
// option's type, default, description, environment name and whether a change needs a
// restart. The same schema types `NodeConfig`, validates input, maps environment variables
// (HANSA_ + the key in upper snake case) and generates docs/configuration.md, so the
// reference can never drift from the code.
import { readFileSync } from 'node:fs'
import { HansaError } from '@hansa/protocol'
import { type Static, type TObject, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { billingOptions } from './billing/options.js'
import { type OptionSpec, lit, option, optionSpecs } from './config/option.js'
import { discoveryOptions } from './discovery/options.js'
import { federationOptions } from './federation/options.js'
import { limitsOptions, policyOptions } from './relay/options.js'
import { replicationOptions } from './replication/options.js'
import { builtInServiceOptions } from './services/index.js'
import type { Service } from './services/service.js'
import { storageOptions } from './store/options.js'
import { verifyOptions } from './verify/options.js'

export { envName, type OptionSpec } from './config/option.js'

/** The node's own options: where it keeps its data, where it listens, what NIP-11 says. */
const nodeOptions = {
  dataDir: option.string('./hansa-data', 'Folder for the database, the node key and logs.'),
  host: option.string('127.0.0.1', 'Address to listen on. Use 0.0.0.0 to accept other machines.'),
  port: option.integer(7447, { description: 'TCP port for WebSocket (Nostr) and HTTP.', min: 0 }),
  publicUrl: option.string(
    '',
    'The ws:// or wss:// URL clients use to reach this node (NIP-42 checks it). Empty: derived from host and port.',
  ),
  name: option.string('Hansa node', {
    description: 'Name shown in the NIP-11 relay information document.',
    restart: false,
  }),
  description: option.string('A Hansa federation node.', {
    description: 'NIP-11 description.',
    restart: false,
  }),
  contact: option.string('', {
    description: 'NIP-11 contact (an email or a URL).',
    restart: false,
  }),
  trustedProxies: option.strings([], {
    description:
      "Addresses or CIDR ranges of reverse proxies in front of the node: only from these is X-Forwarded-For believed, so per-address limits count the client, not the proxy (WebSocket and HTTP). Empty: the socket's address counts.",
  }),
  metricsToken: option.string('', {
    description:
      'Bearer token that shows per-peer series (peer keys, balances) at /metrics; without it /metrics shows only totals. Empty: never shown.',
  }),
  logLevel: option.choice(
    [
      lit('fatal'),
      lit('error'),
      lit('warn'),
      lit('info'),
      lit('debug'),
      lit('trace'),
      lit('silent'),
    ],
    'info',
    'pino log level.',
  ),
}

const maintenanceOptions = option.section({
  intervalSeconds: option.integer(60, {
    description: 'How often expired events (NIP-40) and mail past retention are pruned.',
    min: 1,
  }),
})

/** Every option of a node with its built-in services, in the order the docs list them. */
export const NodeConfigSchema = Type.Object({
  ...nodeOptions,
  verify: verifyOptions,
  storage: storageOptions,
  limits: limitsOptions,
  policy: policyOptions,
  ...builtInServiceOptions,
  maintenance: maintenanceOptions,
  federation: federationOptions,
  discovery: discoveryOptions,
  billing: billingOptions,
  replication: replicationOptions,
})

export type NodeConfig = Static<typeof NodeConfigSchema>

/** Services beyond the built-in ones, whose options join the schema under their names. */
const extraServices = (services: readonly Service[] = []): Service[] =>
  services.filter((s) => !(s.name in NodeConfigSchema.properties))

/** The schema of a node that also runs `services` (their options under their names). */
export function configSchema(services: readonly Service[] = []): TObject {
  const extra = extraServices(services)
  if (extra.length === 0) return NodeConfigSchema
  return Type.Object({
    ...NodeConfigSchema.properties,
    ...Object.fromEntries(extra.map((s) => [s.name, s.options])),
  })
}

/** Every option of the built-in node, derived from the schema. */
export const OPTIONS: readonly OptionSpec[] = optionSpecs(NodeConfigSchema)

const optionsOf = (services: readonly Service[] = []): readonly OptionSpec[] =>
  extraServices(services).length === 0 ? OPTIONS : optionSpecs(configSchema(services))

export class ConfigError extends HansaError {
  override name = 'ConfigError'
  constructor(message: string, details?: string) {
    super('HANSA_CONFIG_INVALID', message, details === undefined ? {} : { details })
  }
}

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

function unknownKeys(options: readonly OptionSpec[], obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return []
  const out: string[] = []
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (options.some((o) => o.key === key)) continue
    if (options.some((o) => o.key.startsWith(`${key}.`))) out.push(...unknownKeys(options, v, key))
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

/**
 * Defaults, then the file, then the environment, then flags: the later wins. `services` are
 * services beyond the built-in ones whose options the sources may set.
 */
export function resolveConfig(
  sources: ConfigSources = {},
  services: readonly Service[] = [],
): NodeConfig {
  const options = optionsOf(services)
  const out: Record<string, unknown> = {}
  const unknown = unknownKeys(options, sources.file)
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown option${unknown.length > 1 ? 's' : ''} in ${sources.filePath ?? 'the config file'}: ${unknown.join(', ')}`,
      'docs/configuration.md lists every option.',
    )
  }
  for (const spec of options) {
    let value: unknown = spec.default
    const fromFile = sources.file ? getPath(sources.file, spec.key) : undefined
    if (fromFile !== undefined) value = coerce(spec, fromFile, sources.filePath ?? 'config file')
    const fromEnv = sources.env?.[spec.env]
    if (fromEnv !== undefined && fromEnv !== '') {
      value = coerce(spec, fromEnv, `environment ${spec.env}`)
    }
    const fromFlag = sources.flags?.[spec.key]
    if (fromFlag !== undefined) value = coerce(spec, fromFlag, 'command line')
    setPath(out, spec.key, Array.isArray(value) ? [...value] : value)
  }
  // Every value passed coerce(); the schema's check is what lets the compiler see the type.
  if (!Value.Check(NodeConfigSchema, out)) {
    const first = [...Value.Errors(NodeConfigSchema, out)][0]
    throw new ConfigError(
      `the configuration does not match its schema at ${first?.path ?? '/'}: ${first?.message ?? 'invalid'}`,
    )
  }
  return out
}

/**
 * A service's own options from a resolved configuration: its section, or its defaults when the
 * configuration was resolved without it. Undefined when the section does not match its schema.
 */
export function serviceOptions<O extends TObject>(
  config: NodeConfig,
  service: Service<O, unknown>,
): Static<O> | undefined {
  const section: unknown = Object.entries(config).find(([k]) => k === service.name)?.[1]
  const value = section ?? Value.Default(service.options, {})
  return Value.Check(service.options, value) ? value : undefined
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

/** The configuration reference in Markdown, generated from the schema. */
export function configurationMarkdown(services: readonly Service[] = []): string {
  const rows = optionsOf(services).map((o) => {
    const def = o.defaultText ?? JSON.stringify(o.default)
    const choices = o.choices ? ` One of: ${o.choices.join(', ')}.` : ''
    return `| \`${o.key}\` | \`${o.env}\` | ${o.type} | \`${def}\` | ${o.restart ? 'yes' : 'no'} | ${o.description}${choices} |`
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
 * `services` are the services beyond the built-in ones (as for resolveConfig): their
 * options are reloaded like every other (a running node's `reload` passes its own).
 */
export function applyReload(
  current: NodeConfig,
  next: NodeConfig,
  services: readonly Service[] = [],
): ReloadResult {
  const applied: string[] = []
  const needRestart: string[] = []
  const root: Record<string, unknown> = current
  for (const spec of optionsOf(services)) {
    const before = getPath(root, spec.key)
    const after = getPath(next, spec.key)
    if (JSON.stringify(before) === JSON.stringify(after)) continue
    if (spec.restart) needRestart.push(spec.key)
    else {
      setPath(root, spec.key, after)
      applied.push(spec.key)
    }
  }
  return { applied, needRestart }
}
