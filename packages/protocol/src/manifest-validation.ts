// Validation of a manifest and a signed manifest: every problem reported with a path
// (`coordinators[0].nodes[1].urls[0]`), in words a guardian acts on (the messages and paths
// are pinned by tests other implementations can follow). Two passes:
// - the structure comes from the TypeBox ManifestSchema of api/federation.ts, the schema the
//   API serves and the client reads: its errors are worded here (`structure`), one per
//   path, nothing reported inside a value whose type or entry count is already wrong;
// - the rules a schema cannot say are code (`ruleIssues`): text lengths in characters and
//   control characters, keys on the curve, URLs, uniqueness, version and previous, issue and
//   expiry times, the threshold against the guardians, the dev fund's recipient, service
//   names and the services nodes offer, canonical JSON. A rule looks only at values whose
//   structure passed. Both are reported as one walk through the manifest would (reportOrder).
//
// Decisions DESIGN.md leaves open, taken here:
// - Unknown fields are refused at every level: `hansa: 1` names the format, and a typo such as
//   "treshold" should fail loudly rather than be signed. A new field means a new format number.
// - `badges` is a list of badge names (e.g. "donatesToDevFund"); `policies` maps a policy's
//   title to its text, as in RoboSats's federation.json; `contact` maps a method to a handle.
// - Every service a node offers must be one the federation runs (a key of `services`).
// - Keys (guardian, coordinator, node) must be valid BIP-340 x-only points, unique within their
//   role; node keys and node URLs are unique across the whole manifest (a URL reaches one node).
// - `devFund.recipient` is an x-only pubkey or an Ethereum address (EIP-55 checked when mixed
//   case); `suggestedRate` is a fraction from 0 to 1.
// - Text fields have length limits (MANIFEST_LIMITS) and one-line fields refuse control
//   characters, so a manifest stays small and a name cannot hide a line break.
import type { TSchema } from '@sinclair/typebox'
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors'
import { Value } from '@sinclair/typebox/value'
import { ManifestSchema, SignedManifestSchema } from './api/federation.js'
import { canonicalJson } from './canonical-json.js'
import {
  CanonicalJsonError,
  ManifestInvalidError,
  type ManifestIssue,
} from './federation-errors.js'
import { isEthereumAddress } from './address.js'
import { isLowerHex, isXOnlyPublicKey } from './hex.js'
import { type Manifest, MANIFEST_LIMITS, type SignedManifest } from './manifest-types.js'

const SERVICE_NAME = /^[a-z][a-z0-9-]*$/
const ONE_LINE_FORBIDDEN = /[\u0000-\u001f\u007f]/
const MULTI_LINE_FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f]/

type Issues = ManifestIssue[]

function at(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') {
    const text = value.length > 40 ? `${value.slice(0, 40)}…` : value
    return JSON.stringify(text)
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

// ---- structure: the schema's errors, worded --------------------------------------------

/** Fields whose every rule is code (they depend on another field, or on more than a type). */
const RULE_FIELDS = new Set(['previous', 'devFund.recipient'])
const SIGNED_RULE_FIELDS = new Set([...RULE_FIELDS].map((path) => `manifest.${path}`))

/**
 * Errors that leave the value's inside unchecked: all but a missing field, an unknown one and
 * too many entries in a map (its entries are still checked).
 */
const NOT_STOPS = new Set<ValueErrorType>([
  ValueErrorType.ObjectRequiredProperty,
  ValueErrorType.ObjectAdditionalProperties,
  ValueErrorType.ObjectMaxProperties,
])

/** Whether `path` is `outer` or lies inside the value at `outer`. */
const within = (path: string, outer: string): boolean =>
  path === outer ||
  outer === '' ||
  (path.startsWith(outer) && /^[.[]/.test(path.slice(outer.length)))

/** What the structure found: the issues, and the paths whose inside was not checked. */
type Structure = { issues: Issues; stops: string[] }

/** A schema error's JSON pointer (`/coordinators/0/contact/a~1b`) as this module's path. */
function issuePath(pointer: string, root: unknown): string {
  let path = ''
  let value = root
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    path = Array.isArray(value) ? `${path}[${key}]` : at(path, key)
    value = isPlainObject(value) || Array.isArray(value) ? (value as never)[key] : undefined
  }
  return path
}

const isHex = (schema: TSchema, bytes: number) => schema.pattern === `^[0-9a-f]{${bytes * 2}}$`

/** One schema error in the words the rules use (and the tests pin). */
function structureMessage(error: ValueError, path: string): string {
  const { schema, value } = error
  const got = describe(value)
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required'
    case ValueErrorType.ObjectAdditionalProperties:
      return 'is not a field of this format'
    case ValueErrorType.ObjectMaxProperties:
      return `must have at most ${schema.maxProperties} entries`
    case ValueErrorType.ArrayMinItems:
    case ValueErrorType.ArrayMaxItems: {
      const range =
        schema.maxItems === undefined
          ? `at least ${schema.minItems}`
          : `${schema.minItems ?? 0} to ${schema.maxItems}`
      return `must have ${range} entries (got ${(value as unknown[]).length})`
    }
    case ValueErrorType.Literal:
      return `must be ${schema.const}, the manifest format this software reads (got ${got})`
  }
  if (isHex(schema, 32) || isHex(schema, 64)) {
    return `must be ${(schema.pattern as string).match(/\{(\d+)\}/)![1]} lowercase hex characters (got ${got})`
  }
  switch (schema.type) {
    case 'integer': {
      const what = schema.description === 'unix seconds' ? 'a unix time in seconds' : 'an integer'
      return `must be ${what} ≥ ${schema.minimum} (got ${got})`
    }
    case 'number':
      return `must be a number from ${schema.minimum} to ${schema.maximum} (got ${got})`
    case 'string':
      return `must be a string (got ${got})`
    case 'array':
      return `must be an array (got ${got})`
    case 'object': {
      // Within a signed manifest, the manifest's own paths decide.
      const field = path.startsWith('manifest.') ? path.slice('manifest.'.length) : path
      if (field === 'services') return `must be an object (got ${got})`
      if (field.startsWith('services.')) return `must be an object of parameters (got ${got})`
      if (schema.patternProperties !== undefined) return `must be an object of strings (got ${got})`
      return `must be an object (got ${got})`
    }
  }
  return `${error.message} (got ${got})`
}

/**
 * The schema's errors as issues: one per path (the first), none inside a value that is not of
 * its type or has too few or too many entries, none on the fields the rules own.
 */
function structure(schema: TSchema, value: unknown, ruleFields: ReadonlySet<string>): Structure {
  const found: Structure = { issues: [], stops: [] }
  if (Value.Check(schema, value)) return found
  const seen = new Set<string>()
  for (const error of Value.Errors(schema, value)) {
    const path = issuePath(error.path, value)
    if (seen.has(path)) continue
    if (ruleFields.has(path) && error.type !== ValueErrorType.ObjectRequiredProperty) continue
    if (found.stops.some((stop) => within(path, stop))) continue
    if (!NOT_STOPS.has(error.type)) found.stops.push(path)
    seen.add(path)
    found.issues.push({ path, message: structureMessage(error, path) })
  }
  return found
}

// ---- the order of the report ---------------------------------------------------------------

/**
 * Every path the checks look at, in the order a manifest's problems are reported: an object's
 * missing fields, then its unknown ones, then its fields one by one (their order in the schema,
 * but the services a node offers are known before the coordinators, and a guardian's name before
 * its key), a list's entries and a map's keys (each key before its value) in their order. Issues
 * are sorted by it, so the two passes report as one walk through the manifest would.
 */
/** What the walk takes a value the schema leaves open to be. */
const OPEN = {} as TSchema

function reportOrder(schema: TSchema, root: unknown): Map<string, number> {
  const order = new Map<string, number>()
  const add = (path: string) => {
    if (!order.has(path)) order.set(path, order.size)
  }
  const visit = (schema: TSchema, value: unknown, path: string): void => {
    add(path)
    if (
      schema.type === undefined ||
      (schema.type === 'object' &&
        schema.properties === undefined &&
        schema.patternProperties === undefined)
    ) {
      // A value the schema leaves open (service parameters): only canonical JSON looks inside.
      if (Array.isArray(value))
        for (const [i, item] of value.entries()) visit(OPEN, item, `${path}[${i}]`)
      else if (isPlainObject(value))
        for (const [key, item] of Object.entries(value)) visit(OPEN, item, at(path, key))
    } else if (schema.type === 'array' && Array.isArray(value)) {
      for (const [i, item] of value.entries()) visit(schema.items as TSchema, item, `${path}[${i}]`)
    } else if (schema.type === 'object' && isPlainObject(value)) {
      if (schema.properties !== undefined) {
        const properties = schema.properties as Record<string, TSchema>
        const keys = Object.keys(properties)
        for (const key of keys) if (value[key] === undefined) add(at(path, key))
        for (const key of Object.keys(value)) if (!keys.includes(key)) add(at(path, key))
        for (const key of checkOrder(path, keys)) {
          if (value[key] !== undefined) visit(properties[key]!, value[key], at(path, key))
        }
      } else if (schema.patternProperties !== undefined) {
        const inner = Object.values(schema.patternProperties as Record<string, TSchema>)[0]!
        for (const [key, item] of Object.entries(value)) {
          add(`${at(path, key)} (key)`)
          visit(inner, item, at(path, key))
        }
      }
    }
  }
  visit(schema, root, '')
  return order
}

/** The fields of the object at `path` in the order the rules need them. */
function checkOrder(path: string, keys: readonly string[]): readonly string[] {
  if (/(^|\.)guardians\[\d+\]$/.test(path)) return ['name', 'pubkey']
  if ((path === '' || path === 'manifest') && keys.includes('services')) {
    return [
      ...keys.filter((k) => k !== 'services' && k !== 'coordinators' && k !== 'devFund'),
      'services',
      'coordinators',
      'devFund',
    ]
  }
  return keys
}

/** The structure's issues and the rules' as one report (a rule first where both name a path). */
function report(schema: TSchema, value: unknown, structure: Issues, rules: Issues): Issues {
  if (structure.length + rules.length < 2) return [...structure, ...rules]
  const order = reportOrder(schema, value)
  const rank = (issue: ManifestIssue) => order.get(issue.path) ?? order.size
  const ranked = [
    ...rules.map((issue, i) => ({ issue, key: [rank(issue), 0, i] })),
    ...structure.map((issue, i) => ({ issue, key: [rank(issue), 1, i] })),
  ]
  ranked.sort((a, b) => a.key[0]! - b.key[0]! || a.key[1]! - b.key[1]! || a.key[2]! - b.key[2]!)
  return ranked.map((r) => r.issue)
}

// ---- the rules ---------------------------------------------------------------------------

/**
 * What the rules may look at: a path is sound when the structure checked all of it and found
 * nothing wrong with its type or its entry count, nor with those of a value around it.
 */
class Rules {
  readonly issues: Issues = []
  constructor(private readonly stops: readonly string[]) {}

  sound(path: string): boolean {
    return !this.stops.some((stop) => within(path, stop))
  }

  push(path: string, message: string): void {
    this.issues.push({ path, message })
  }

  text(
    value: unknown,
    path: string,
    limits: { min: number; max: number; multiLine?: boolean },
  ): boolean {
    if (typeof value !== 'string' || !this.sound(path)) return false
    const length = [...value].length
    if (length < limits.min || length > limits.max) {
      const range = limits.min === 0 ? `at most ${limits.max}` : `${limits.min} to ${limits.max}`
      this.push(path, `must be ${range} characters long (got ${length})`)
      return false
    }
    if ((limits.multiLine ? MULTI_LINE_FORBIDDEN : ONE_LINE_FORBIDDEN).test(value)) {
      this.push(path, 'must not contain control characters')
      return false
    }
    return true
  }

  /** A key of a map (the map is sound): checked as text, reported at `path (key)`. */
  key(name: string, path: string, max: number): void {
    const length = [...name].length
    if (length < 1 || length > max) {
      this.push(`${path} (key)`, `must be 1 to ${max} characters long (got ${length})`)
    } else if (ONE_LINE_FORBIDDEN.test(name)) {
      this.push(`${path} (key)`, 'must not contain control characters')
    }
  }

  /** A key already in lowercase hex must be a point of the curve. */
  pubkey(value: unknown, path: string): value is string {
    if (typeof value !== 'string' || !this.sound(path)) return false
    if (!isXOnlyPublicKey(value)) {
      this.push(path, 'is not a valid secp256k1 x-only public key (BIP-340)')
      return false
    }
    return true
  }

  /** The entries of an array the structure passed (none when it did not). */
  entries(value: unknown, path: string): unknown[] {
    return Array.isArray(value) && this.sound(path) ? value : []
  }

  integer(value: unknown, path: string): value is number {
    return typeof value === 'number' && this.sound(path)
  }
}

/** Why a node URL is not acceptable, or null. Shared with invite codes. */
export function nodeUrlProblem(url: unknown): string | null {
  if (typeof url !== 'string') return `must be a string (got ${describe(url)})`
  if (url.length > MANIFEST_LIMITS.urlLength) {
    return `must be at most ${MANIFEST_LIMITS.urlLength} characters long`
  }
  if (!/^wss?:\/\//.test(url)) return `must be a ws:// or wss:// URL (got ${describe(url)})`
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return 'must not contain spaces or control characters'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `is not a valid URL (got ${describe(url)})`
  }
  if (parsed.hostname === '') return 'must name a host'
  if (parsed.username !== '' || parsed.password !== '') {
    return 'must not carry a user name or password'
  }
  if (parsed.hash !== '' || url.includes('#')) return 'must not have a #fragment'
  return null
}

function textMap(
  rules: Rules,
  value: unknown,
  path: string,
  limits: { keyLength: number; valueLength: number; multiLine: boolean },
): void {
  if (!isPlainObject(value) || !rules.sound(path)) return
  for (const [name, item] of Object.entries(value)) {
    if (item === undefined) continue
    const itemPath = at(path, name)
    rules.key(name, itemPath, limits.keyLength)
    rules.text(item, itemPath, { min: 0, max: limits.valueLength, multiLine: limits.multiLine })
  }
}

type Seen = { nodes: Map<string, string>; urls: Map<string, string> }

function nodeRules(
  rules: Rules,
  node: Record<string, unknown>,
  path: string,
  services: ReadonlySet<string> | undefined,
  seen: Seen,
): void {
  if (rules.pubkey(node.pubkey, at(path, 'pubkey'))) {
    const first = seen.nodes.get(node.pubkey)
    if (first !== undefined) {
      rules.push(
        at(path, 'pubkey'),
        `repeats ${first}.pubkey; a node key may appear once in the manifest`,
      )
    } else seen.nodes.set(node.pubkey, path)
  }
  rules.entries(node.urls, at(path, 'urls')).forEach((url, j) => {
    const urlPath = `${at(path, 'urls')}[${j}]`
    if (typeof url !== 'string') return
    const problem = nodeUrlProblem(url)
    const first = seen.urls.get(url)
    if (problem !== null) rules.push(urlPath, problem)
    else if (first !== undefined) rules.push(urlPath, `repeats ${first}; a URL reaches one node`)
    else seen.urls.set(url, urlPath)
  })
  const own = new Set<string>()
  rules.entries(node.services, at(path, 'services')).forEach((service, j) => {
    const servicePath = `${at(path, 'services')}[${j}]`
    if (typeof service !== 'string') return
    if (own.has(service)) rules.push(servicePath, `lists "${service}" twice`)
    else if (services !== undefined && !services.has(service)) {
      rules.push(
        servicePath,
        `"${service}" is not a service the federation runs (not a key of services)`,
      )
    }
    own.add(service)
  })
}

function coordinatorRules(
  rules: Rules,
  value: unknown,
  services: ReadonlySet<string> | undefined,
): void {
  const keys = new Map<string, number>()
  const seen: Seen = { nodes: new Map(), urls: new Map() }
  rules.entries(value, 'coordinators').forEach((entry, i) => {
    const path = `coordinators[${i}]`
    if (!isPlainObject(entry) || !rules.sound(path)) return
    if (rules.pubkey(entry.pubkey, at(path, 'pubkey'))) {
      const first = keys.get(entry.pubkey)
      if (first !== undefined) {
        rules.push(
          at(path, 'pubkey'),
          `repeats coordinators[${first}].pubkey; each coordinator key may appear once`,
        )
      } else keys.set(entry.pubkey, i)
    }
    rules.text(entry.alias, at(path, 'alias'), { min: 1, max: MANIFEST_LIMITS.aliasLength })
    rules.text(entry.description, at(path, 'description'), {
      min: 0,
      max: MANIFEST_LIMITS.descriptionLength,
      multiLine: true,
    })
    textMap(rules, entry.contact, at(path, 'contact'), {
      keyLength: MANIFEST_LIMITS.contactKeyLength,
      valueLength: MANIFEST_LIMITS.contactValueLength,
      multiLine: false,
    })
    const badges = new Set<unknown>()
    rules.entries(entry.badges, at(path, 'badges')).forEach((badge, j) => {
      const badgePath = `${at(path, 'badges')}[${j}]`
      if (!rules.text(badge, badgePath, { min: 1, max: MANIFEST_LIMITS.badgeLength })) return
      if (badges.has(badge)) rules.push(badgePath, `lists "${badge}" twice`)
      badges.add(badge)
    })
    textMap(rules, entry.policies, at(path, 'policies'), {
      keyLength: MANIFEST_LIMITS.policyTitleLength,
      valueLength: MANIFEST_LIMITS.policyTextLength,
      multiLine: true,
    })
    rules.entries(entry.nodes, at(path, 'nodes')).forEach((node, j) => {
      const nodePath = `${at(path, 'nodes')}[${j}]`
      if (isPlainObject(node) && rules.sound(nodePath)) {
        nodeRules(rules, node, nodePath, services, seen)
      }
    })
  })
}

/** The services' names (checked); undefined when `services` is not a map. */
function serviceRules(rules: Rules, value: unknown): Set<string> | undefined {
  if (!isPlainObject(value) || !rules.sound('services')) return undefined
  const names = new Set<string>()
  for (const [name, params] of Object.entries(value)) {
    if (params === undefined) continue
    names.add(name)
    if (name.length > MANIFEST_LIMITS.serviceNameLength || !SERVICE_NAME.test(name)) {
      rules.push(
        at('services', name),
        'a service name is a lowercase letter then lowercase letters, digits or "-", ' +
          `at most ${MANIFEST_LIMITS.serviceNameLength} characters`,
      )
    }
  }
  return names
}

function devFundRules(rules: Rules, value: unknown): void {
  if (!isPlainObject(value) || !rules.sound('devFund')) return
  const { recipient } = value
  if (recipient !== undefined && !isXOnlyPublicKey(recipient) && !isEthereumAddress(recipient)) {
    rules.push(
      'devFund.recipient',
      'must be an x-only public key (64 lowercase hex) or an Ethereum address ' +
        `(0x and 40 hex digits, EIP-55 checksum if mixed case) (got ${describe(recipient)})`,
    )
  }
}

/**
 * The rules of a manifest whose structure stopped at `stops` (paths relative to it); `clean`
 * when the structure found nothing at all (then canonical JSON is checked too).
 */
function ruleIssues(value: unknown, stops: readonly string[], clean: boolean): Issues {
  const rules = new Rules(stops)
  if (!isPlainObject(value) || !rules.sound('')) return rules.issues
  const m = value
  rules.text(m.name, 'name', { min: 1, max: MANIFEST_LIMITS.nameLength })
  const version = rules.integer(m.version, 'version') ? m.version : undefined
  if (version === 1 && m.previous !== null && m.previous !== undefined) {
    rules.push(
      'previous',
      `must be null in the genesis manifest (version 1) (got ${describe(m.previous)})`,
    )
  } else if (version !== undefined && version > 1 && !isLowerHex(m.previous, 32)) {
    rules.push(
      'previous',
      `must be the sha256 of version ${version - 1}, 64 lowercase hex characters ` +
        `(got ${describe(m.previous)})`,
    )
  }
  if (
    rules.integer(m.issuedAt, 'issuedAt') &&
    rules.integer(m.expiresAt, 'expiresAt') &&
    m.expiresAt <= m.issuedAt
  ) {
    rules.push('expiresAt', `must be later than issuedAt (${m.issuedAt}) (got ${m.expiresAt})`)
  }
  const guardianKeys = new Map<string, number>()
  const guardians = rules.entries(m.guardians, 'guardians')
  guardians.forEach((guardian, i) => {
    const path = `guardians[${i}]`
    if (!isPlainObject(guardian) || !rules.sound(path)) return
    rules.text(guardian.name, at(path, 'name'), {
      min: 1,
      max: MANIFEST_LIMITS.guardianNameLength,
    })
    if (!rules.pubkey(guardian.pubkey, at(path, 'pubkey'))) return
    const first = guardianKeys.get(guardian.pubkey)
    if (first !== undefined) {
      rules.push(
        at(path, 'pubkey'),
        `repeats guardians[${first}].pubkey; each guardian key may appear once`,
      )
    } else guardianKeys.set(guardian.pubkey, i)
  })
  if (
    rules.integer(m.threshold, 'threshold') &&
    rules.sound('guardians') &&
    Array.isArray(m.guardians) &&
    m.threshold > m.guardians.length
  ) {
    rules.push(
      'threshold',
      `must be from 1 to ${m.guardians.length}, the number of guardians (got ${m.threshold})`,
    )
  }
  const services = serviceRules(rules, m.services)
  coordinatorRules(rules, m.coordinators, services)
  devFundRules(rules, m.devFund)
  if (clean && rules.issues.length === 0) {
    // Whatever the schema lets through (service parameters) must still be canonical JSON.
    try {
      canonicalJson(value)
    } catch (error) {
      if (!(error instanceof CanonicalJsonError)) throw error
      rules.push(error.path.replace(/^\$\.?/, ''), error.problem)
    }
  }
  return rules.issues
}

/** Every problem of a manifest, each with a path; empty when it is well formed. */
export function manifestIssues(value: unknown): ManifestIssue[] {
  const { issues, stops } = structure(ManifestSchema, value, RULE_FIELDS)
  return report(ManifestSchema, value, issues, ruleIssues(value, stops, issues.length === 0))
}

export type ManifestValidation =
  | { ok: true; manifest: Manifest }
  | { ok: false; error: ManifestInvalidError }

/** Validation of a manifest (not of its signatures or its place in a chain). */
export function validateManifest(value: unknown): ManifestValidation {
  const issues = manifestIssues(value)
  if (issues.length > 0) return { ok: false, error: new ManifestInvalidError(issues) }
  return { ok: true, manifest: value as Manifest }
}

export function isManifest(value: unknown): value is Manifest {
  return manifestIssues(value).length === 0
}

/** Every problem of a signed manifest `{ manifest, signatures }` (signatures unchecked). */
export function signedManifestIssues(value: unknown): ManifestIssue[] {
  const { issues, stops } = structure(SignedManifestSchema, value, SIGNED_RULE_FIELDS)
  if (!isPlainObject(value) || value.manifest === undefined) return issues
  const inside = (path: string) => path !== '' && within(path, 'manifest')
  const relative = (path: string) => (path === 'manifest' ? '' : path.slice('manifest.'.length))
  const rules = ruleIssues(
    value.manifest,
    stops.filter(inside).map(relative),
    !issues.some((i) => inside(i.path)),
  )
  const outer = (path: string) => (path === '' ? 'manifest' : at('manifest', path))
  const inner = rules.map((i) => ({ path: outer(i.path), message: i.message }))
  return report(SignedManifestSchema, value, issues, inner)
}

export type SignedManifestValidation =
  | { ok: true; signed: SignedManifest }
  | { ok: false; error: ManifestInvalidError }

/** Validation of a signed manifest; signatures are checked by verifyChain. */
export function validateSignedManifest(value: unknown): SignedManifestValidation {
  const issues = signedManifestIssues(value)
  if (issues.length > 0) return { ok: false, error: new ManifestInvalidError(issues) }
  return { ok: true, signed: value as SignedManifest }
}

export function isSignedManifest(value: unknown): value is SignedManifest {
  return signedManifestIssues(value).length === 0
}
