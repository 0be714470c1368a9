// The manifest: the federation's signed state (DESIGN.md "The manifest"). Types that match the
// JSON exactly, a structural validator that reports every problem with a path, and the diff a
// guardian reads before signing a proposal. Signing lives in manifest-signing.ts, the chain
// rules in manifest-chain.ts.
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
import { canonicalJson } from './canonical-json.js'
import {
  CanonicalJsonError,
  ManifestInvalidError,
  type ManifestIssue,
} from './federation-errors.js'
import { isEthereumAddress, isLowerHex, isXOnlyPublicKey } from './hex.js'

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

export type ManifestGuardian = { pubkey: string; name: string }

export type ManifestNode = {
  pubkey: string
  /** ws:// or wss:// URLs where the node answers. */
  urls: string[]
  /** Services the node offers; each is a key of the manifest's `services`. */
  services: string[]
}

export type ManifestCoordinator = {
  pubkey: string
  alias: string
  description: string
  /** Contact method → handle, e.g. { "email": "…", "nostr": "npub…" }. */
  contact: Record<string, string>
  /** Badge names guardians attest to, e.g. "donatesToDevFund". */
  badges?: string[]
  /** Policy title → policy text. */
  policies?: Record<string, string>
  nodes: ManifestNode[]
}

export type DevFund = {
  /** An x-only pubkey (64 lowercase hex) or an Ethereum address. */
  recipient: string
  /** The share of income coordinators are asked to donate, from 0 to 1 (DESIGN.md: 0.2). */
  suggestedRate: number
}

export type Manifest = {
  hansa: 1
  name: string
  version: number
  /** sha256 (lowercase hex) of the previous version's canonical bytes; null for genesis. */
  previous: string | null
  /** Unix seconds. */
  issuedAt: number
  /** Unix seconds; the manifest is expired from this second on. */
  expiresAt: number
  guardians: ManifestGuardian[]
  threshold: number
  coordinators: ManifestCoordinator[]
  /** Service name → the federation-wide parameters of that service. */
  services: Record<string, JsonObject>
  devFund: DevFund
}

export type ManifestSignature = { pubkey: string; sig: string }

export type SignedManifest = { manifest: Manifest; signatures: ManifestSignature[] }

export const MANIFEST_FORMAT = 1

export const MANIFEST_LIMITS = {
  nameLength: 100,
  guardianNameLength: 64,
  guardians: 100,
  aliasLength: 64,
  descriptionLength: 2000,
  contactEntries: 32,
  contactKeyLength: 32,
  contactValueLength: 512,
  badges: 32,
  badgeLength: 64,
  policies: 32,
  policyTitleLength: 100,
  policyTextLength: 4000,
  urlLength: 512,
  urlsPerNode: 16,
  servicesPerNode: 32,
  serviceNameLength: 32,
  /** Signature entries in one signed manifest (bounds the work a verifier can be made to do). */
  signatures: 256,
} as const

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

/** Checks that `value` is an object with exactly these fields; reports missing and unknown ones. */
function fields(
  value: unknown,
  path: string,
  issues: Issues,
  required: readonly string[],
  optional: readonly string[] = [],
): value is Record<string, unknown> {
  if (!isPlainObject(value)) {
    issues.push({ path, message: `must be an object (got ${describe(value)})` })
    return false
  }
  for (const name of required) {
    if (value[name] === undefined) issues.push({ path: at(path, name), message: 'is required' })
  }
  for (const [name, item] of Object.entries(value)) {
    if (item !== undefined && !required.includes(name) && !optional.includes(name)) {
      issues.push({ path: at(path, name), message: 'is not a field of this format' })
    }
  }
  return true
}

function text(
  value: unknown,
  path: string,
  issues: Issues,
  limits: { min: number; max: number; multiLine?: boolean },
): value is string {
  if (value === undefined) return false
  if (typeof value !== 'string') {
    issues.push({ path, message: `must be a string (got ${describe(value)})` })
    return false
  }
  const length = [...value].length
  if (length < limits.min || length > limits.max) {
    const range = limits.min === 0 ? `at most ${limits.max}` : `${limits.min} to ${limits.max}`
    issues.push({ path, message: `must be ${range} characters long (got ${length})` })
    return false
  }
  if ((limits.multiLine ? MULTI_LINE_FORBIDDEN : ONE_LINE_FORBIDDEN).test(value)) {
    issues.push({ path, message: 'must not contain control characters' })
    return false
  }
  return true
}

function pubkey(value: unknown, path: string, issues: Issues): value is string {
  if (value === undefined) return false
  if (!isLowerHex(value, 32)) {
    issues.push({ path, message: `must be 64 lowercase hex characters (got ${describe(value)})` })
    return false
  }
  if (!isXOnlyPublicKey(value)) {
    issues.push({ path, message: 'is not a valid secp256k1 x-only public key (BIP-340)' })
    return false
  }
  return true
}

function integer(
  value: unknown,
  path: string,
  issues: Issues,
  min: number,
  what = 'an integer',
): value is number {
  if (value === undefined) return false
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    issues.push({ path, message: `must be ${what} ≥ ${min} (got ${describe(value)})` })
    return false
  }
  return true
}

function array(
  value: unknown,
  path: string,
  issues: Issues,
  min: number,
  max: number,
): value is unknown[] {
  if (value === undefined) return false
  if (!Array.isArray(value)) {
    issues.push({ path, message: `must be an array (got ${describe(value)})` })
    return false
  }
  if (value.length < min || value.length > max) {
    const range = max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`
    issues.push({ path, message: `must have ${range} entries (got ${value.length})` })
    return false
  }
  return true
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

function stringMap(
  value: unknown,
  path: string,
  issues: Issues,
  limits: { entries: number; keyLength: number; valueLength: number; multiLine: boolean },
): void {
  if (value === undefined) return
  if (!isPlainObject(value)) {
    issues.push({ path, message: `must be an object of strings (got ${describe(value)})` })
    return
  }
  const entries = Object.entries(value).filter(([, item]) => item !== undefined)
  if (entries.length > limits.entries) {
    issues.push({ path, message: `must have at most ${limits.entries} entries` })
  }
  for (const [name, item] of entries) {
    const itemPath = at(path, name)
    text(name, `${itemPath} (key)`, issues, { min: 1, max: limits.keyLength })
    text(item, itemPath, issues, { min: 0, max: limits.valueLength, multiLine: limits.multiLine })
  }
}

function checkGuardians(value: unknown, issues: Issues): number | undefined {
  if (!array(value, 'guardians', issues, 1, MANIFEST_LIMITS.guardians)) return undefined
  const seen = new Map<string, number>()
  value.forEach((guardian, i) => {
    const path = `guardians[${i}]`
    if (!fields(guardian, path, issues, ['pubkey', 'name'])) return
    text(guardian.name, at(path, 'name'), issues, {
      min: 1,
      max: MANIFEST_LIMITS.guardianNameLength,
    })
    if (!pubkey(guardian.pubkey, at(path, 'pubkey'), issues)) return
    const first = seen.get(guardian.pubkey)
    if (first !== undefined) {
      issues.push({
        path: at(path, 'pubkey'),
        message: `repeats guardians[${first}].pubkey; each guardian key may appear once`,
      })
    } else seen.set(guardian.pubkey, i)
  })
  return value.length
}

type Seen = { nodes: Map<string, string>; urls: Map<string, string> }

function checkNode(
  node: unknown,
  path: string,
  issues: Issues,
  services: ReadonlySet<string> | undefined,
  seen: Seen,
): void {
  if (!fields(node, path, issues, ['pubkey', 'urls', 'services'])) return
  if (pubkey(node.pubkey, at(path, 'pubkey'), issues)) {
    const first = seen.nodes.get(node.pubkey)
    if (first !== undefined) {
      issues.push({
        path: at(path, 'pubkey'),
        message: `repeats ${first}.pubkey; a node key may appear once in the manifest`,
      })
    } else seen.nodes.set(node.pubkey, path)
  }
  if (array(node.urls, at(path, 'urls'), issues, 1, MANIFEST_LIMITS.urlsPerNode)) {
    node.urls.forEach((url, j) => {
      const urlPath = `${at(path, 'urls')}[${j}]`
      const problem = nodeUrlProblem(url)
      if (problem !== null) {
        issues.push({ path: urlPath, message: problem })
        return
      }
      const first = seen.urls.get(url as string)
      if (first !== undefined) {
        issues.push({ path: urlPath, message: `repeats ${first}; a URL reaches one node` })
      } else seen.urls.set(url as string, urlPath)
    })
  }
  if (array(node.services, at(path, 'services'), issues, 1, MANIFEST_LIMITS.servicesPerNode)) {
    const own = new Set<string>()
    node.services.forEach((service, j) => {
      const servicePath = `${at(path, 'services')}[${j}]`
      if (typeof service !== 'string') {
        issues.push({ path: servicePath, message: `must be a string (got ${describe(service)})` })
      } else if (own.has(service)) {
        issues.push({ path: servicePath, message: `lists "${service}" twice` })
      } else if (services !== undefined && !services.has(service)) {
        issues.push({
          path: servicePath,
          message: `"${service}" is not a service the federation runs (not a key of services)`,
        })
      }
      if (typeof service === 'string') own.add(service)
    })
  }
}

function checkCoordinators(
  value: unknown,
  issues: Issues,
  services: ReadonlySet<string> | undefined,
): void {
  if (!array(value, 'coordinators', issues, 0, Number.POSITIVE_INFINITY)) return
  const coordinators = new Map<string, number>()
  const seen: Seen = { nodes: new Map(), urls: new Map() }
  value.forEach((coordinator, i) => {
    const path = `coordinators[${i}]`
    const required = ['pubkey', 'alias', 'description', 'contact', 'nodes']
    if (!fields(coordinator, path, issues, required, ['badges', 'policies'])) return
    if (pubkey(coordinator.pubkey, at(path, 'pubkey'), issues)) {
      const first = coordinators.get(coordinator.pubkey)
      if (first !== undefined) {
        issues.push({
          path: at(path, 'pubkey'),
          message: `repeats coordinators[${first}].pubkey; each coordinator key may appear once`,
        })
      } else coordinators.set(coordinator.pubkey, i)
    }
    text(coordinator.alias, at(path, 'alias'), issues, { min: 1, max: MANIFEST_LIMITS.aliasLength })
    text(coordinator.description, at(path, 'description'), issues, {
      min: 0,
      max: MANIFEST_LIMITS.descriptionLength,
      multiLine: true,
    })
    stringMap(coordinator.contact, at(path, 'contact'), issues, {
      entries: MANIFEST_LIMITS.contactEntries,
      keyLength: MANIFEST_LIMITS.contactKeyLength,
      valueLength: MANIFEST_LIMITS.contactValueLength,
      multiLine: false,
    })
    if (array(coordinator.badges, at(path, 'badges'), issues, 0, MANIFEST_LIMITS.badges)) {
      const badges = new Set<unknown>()
      coordinator.badges.forEach((badge, j) => {
        const badgePath = `${at(path, 'badges')}[${j}]`
        if (!text(badge, badgePath, issues, { min: 1, max: MANIFEST_LIMITS.badgeLength })) return
        if (badges.has(badge)) issues.push({ path: badgePath, message: `lists "${badge}" twice` })
        badges.add(badge)
      })
    }
    stringMap(coordinator.policies, at(path, 'policies'), issues, {
      entries: MANIFEST_LIMITS.policies,
      keyLength: MANIFEST_LIMITS.policyTitleLength,
      valueLength: MANIFEST_LIMITS.policyTextLength,
      multiLine: true,
    })
    if (array(coordinator.nodes, at(path, 'nodes'), issues, 0, Number.POSITIVE_INFINITY)) {
      coordinator.nodes.forEach((node, j) => {
        checkNode(node, `${at(path, 'nodes')}[${j}]`, issues, services, seen)
      })
    }
  })
}

function checkServices(value: unknown, issues: Issues): Set<string> | undefined {
  if (value === undefined) return undefined
  if (!isPlainObject(value)) {
    issues.push({ path: 'services', message: `must be an object (got ${describe(value)})` })
    return undefined
  }
  const names = new Set<string>()
  for (const [name, params] of Object.entries(value)) {
    if (params === undefined) continue
    names.add(name)
    const path = at('services', name)
    if (name.length > MANIFEST_LIMITS.serviceNameLength || !SERVICE_NAME.test(name)) {
      issues.push({
        path,
        message:
          'a service name is a lowercase letter then lowercase letters, digits or "-", ' +
          `at most ${MANIFEST_LIMITS.serviceNameLength} characters`,
      })
    }
    if (!isPlainObject(params)) {
      issues.push({ path, message: `must be an object of parameters (got ${describe(params)})` })
    }
  }
  return names
}

function checkDevFund(value: unknown, issues: Issues): void {
  if (value === undefined || !fields(value, 'devFund', issues, ['recipient', 'suggestedRate'])) {
    return
  }
  const { recipient, suggestedRate } = value
  if (recipient !== undefined && !isXOnlyPublicKey(recipient) && !isEthereumAddress(recipient)) {
    issues.push({
      path: 'devFund.recipient',
      message:
        'must be an x-only public key (64 lowercase hex) or an Ethereum address ' +
        `(0x and 40 hex digits, EIP-55 checksum if mixed case) (got ${describe(recipient)})`,
    })
  }
  if (
    suggestedRate !== undefined &&
    (typeof suggestedRate !== 'number' ||
      !Number.isFinite(suggestedRate) ||
      suggestedRate < 0 ||
      suggestedRate > 1)
  ) {
    issues.push({
      path: 'devFund.suggestedRate',
      message: `must be a number from 0 to 1 (got ${describe(suggestedRate)})`,
    })
  }
}

const MANIFEST_FIELDS = [
  'hansa',
  'name',
  'version',
  'previous',
  'issuedAt',
  'expiresAt',
  'guardians',
  'threshold',
  'coordinators',
  'services',
  'devFund',
] as const

function checkManifest(value: unknown, path: string, issues: Issues): void {
  const local: Issues = []
  collectManifestIssues(value, local)
  for (const issue of local) {
    issues.push({ path: issue.path === '' ? path : at(path, issue.path), message: issue.message })
  }
}

function collectManifestIssues(value: unknown, issues: Issues): void {
  if (!fields(value, '', issues, MANIFEST_FIELDS)) return
  const m = value
  if (m.hansa !== undefined && m.hansa !== MANIFEST_FORMAT) {
    issues.push({
      path: 'hansa',
      message: `must be ${MANIFEST_FORMAT}, the manifest format this software reads (got ${describe(m.hansa)})`,
    })
  }
  text(m.name, 'name', issues, { min: 1, max: MANIFEST_LIMITS.nameLength })
  const version = integer(m.version, 'version', issues, 1) ? m.version : undefined
  if (version === 1 && m.previous !== null && m.previous !== undefined) {
    issues.push({
      path: 'previous',
      message: `must be null in the genesis manifest (version 1) (got ${describe(m.previous)})`,
    })
  } else if (version !== undefined && version > 1 && !isLowerHex(m.previous, 32)) {
    issues.push({
      path: 'previous',
      message:
        `must be the sha256 of version ${version - 1}, 64 lowercase hex characters ` +
        `(got ${describe(m.previous)})`,
    })
  }
  const issued = integer(m.issuedAt, 'issuedAt', issues, 0, 'a unix time in seconds')
  if (integer(m.expiresAt, 'expiresAt', issues, 0, 'a unix time in seconds') && issued) {
    if ((m.expiresAt as number) <= (m.issuedAt as number)) {
      issues.push({
        path: 'expiresAt',
        message: `must be later than issuedAt (${m.issuedAt}) (got ${m.expiresAt})`,
      })
    }
  }
  const guardians = checkGuardians(m.guardians, issues)
  if (integer(m.threshold, 'threshold', issues, 1) && guardians !== undefined) {
    if ((m.threshold as number) > guardians) {
      issues.push({
        path: 'threshold',
        message: `must be from 1 to ${guardians}, the number of guardians (got ${m.threshold})`,
      })
    }
  }
  const services = checkServices(m.services, issues)
  checkCoordinators(m.coordinators, issues, services)
  checkDevFund(m.devFund, issues)
  if (issues.length === 0) {
    // Whatever the field checks let through (service parameters) must still be canonical JSON.
    try {
      canonicalJson(value)
    } catch (error) {
      if (!(error instanceof CanonicalJsonError)) throw error
      issues.push({ path: error.path.replace(/^\$\.?/, ''), message: error.problem })
    }
  }
}

/** Every structural problem of a manifest, each with a path; empty when it is well formed. */
export function manifestIssues(value: unknown): ManifestIssue[] {
  const issues: Issues = []
  collectManifestIssues(value, issues)
  return issues
}

export type ManifestValidation =
  | { ok: true; manifest: Manifest }
  | { ok: false; error: ManifestInvalidError }

/** Structural validation of a manifest (not of its signatures or its place in a chain). */
export function validateManifest(value: unknown): ManifestValidation {
  const issues = manifestIssues(value)
  if (issues.length > 0) return { ok: false, error: new ManifestInvalidError(issues) }
  return { ok: true, manifest: value as Manifest }
}

export function isManifest(value: unknown): value is Manifest {
  return manifestIssues(value).length === 0
}

/** Every structural problem of a signed manifest `{ manifest, signatures }`. */
export function signedManifestIssues(value: unknown): ManifestIssue[] {
  const issues: Issues = []
  if (!fields(value, '', issues, ['manifest', 'signatures'])) return issues
  if (value.manifest !== undefined) checkManifest(value.manifest, 'manifest', issues)
  const signatures = value.signatures
  if (array(signatures, 'signatures', issues, 0, MANIFEST_LIMITS.signatures)) {
    signatures.forEach((entry, i) => {
      const path = `signatures[${i}]`
      if (!fields(entry, path, issues, ['pubkey', 'sig'])) return
      if (entry.pubkey !== undefined && !isLowerHex(entry.pubkey, 32)) {
        issues.push({
          path: at(path, 'pubkey'),
          message: `must be 64 lowercase hex characters (got ${describe(entry.pubkey)})`,
        })
      }
      if (entry.sig !== undefined && !isLowerHex(entry.sig, 64)) {
        issues.push({
          path: at(path, 'sig'),
          message: `must be 128 lowercase hex characters (got ${describe(entry.sig)})`,
        })
      }
    })
  }
  return issues
}

export type SignedManifestValidation =
  | { ok: true; signed: SignedManifest }
  | { ok: false; error: ManifestInvalidError }

/** Structural validation of a signed manifest; signatures are checked by verifyChain. */
export function validateSignedManifest(value: unknown): SignedManifestValidation {
  const issues = signedManifestIssues(value)
  if (issues.length > 0) return { ok: false, error: new ManifestInvalidError(issues) }
  return { ok: true, signed: value as SignedManifest }
}

export function isSignedManifest(value: unknown): value is SignedManifest {
  return signedManifestIssues(value).length === 0
}

// ---------------------------------------------------------------------------------------------
// The diff guardians review before signing a proposal.

export type ManifestChange = { summary: string } & (
  | { kind: 'name'; from: string; to: string }
  | { kind: 'guardian-added'; guardian: ManifestGuardian }
  | { kind: 'guardian-removed'; guardian: ManifestGuardian }
  | { kind: 'guardian-renamed'; pubkey: string; from: string; to: string }
  | { kind: 'threshold'; from: number; to: number; guardians: number }
  | { kind: 'coordinator-added'; coordinator: ManifestCoordinator }
  | { kind: 'coordinator-removed'; coordinator: ManifestCoordinator }
  | { kind: 'coordinator-changed'; pubkey: string; fields: string[] }
  | { kind: 'node-added'; coordinator: string; node: ManifestNode }
  | { kind: 'node-removed'; coordinator: string; node: ManifestNode }
  | {
      kind: 'node-changed'
      coordinator: string
      pubkey: string
      urls: { added: string[]; removed: string[] }
      services: { added: string[]; removed: string[] }
    }
  | { kind: 'service-added'; service: string; params: JsonObject }
  | { kind: 'service-removed'; service: string; params: JsonObject }
  | { kind: 'service-changed'; service: string; from: JsonObject; to: JsonObject }
  | { kind: 'dev-fund'; from: DevFund; to: DevFund }
  | { kind: 'validity'; from: Validity; to: Validity }
)

export type Validity = { issuedAt: number; expiresAt: number }

function shortKey(pubkey: string): string {
  return `${pubkey.slice(0, 8)}…`
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null)
}

function minus(a: readonly string[], b: readonly string[]): string[] {
  return a.filter((item) => !b.includes(item))
}

function listed(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join(', ')
}

function unixDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

function nodeChanges(before: ManifestCoordinator, after: ManifestCoordinator): ManifestChange[] {
  const changes: ManifestChange[] = []
  const label = `${after.alias} (${shortKey(after.pubkey)})`
  const old = new Map(before.nodes.map((node) => [node.pubkey, node]))
  const now = new Map(after.nodes.map((node) => [node.pubkey, node]))
  for (const node of before.nodes) {
    if (now.has(node.pubkey)) continue
    changes.push({
      kind: 'node-removed',
      coordinator: after.pubkey,
      node,
      summary: `node ${shortKey(node.pubkey)} removed from ${label}`,
    })
  }
  for (const node of after.nodes) {
    const previous = old.get(node.pubkey)
    if (previous === undefined) {
      changes.push({
        kind: 'node-added',
        coordinator: after.pubkey,
        node,
        summary:
          `node ${shortKey(node.pubkey)} added to ${label}: ${node.urls.join(', ')} ` +
          `serving ${node.services.join(', ')}`,
      })
      continue
    }
    const urls = {
      added: minus(node.urls, previous.urls),
      removed: minus(previous.urls, node.urls),
    }
    const services = {
      added: minus(node.services, previous.services),
      removed: minus(previous.services, node.services),
    }
    const parts: string[] = []
    if (urls.added.length > 0) parts.push(`URLs added: ${urls.added.join(', ')}`)
    if (urls.removed.length > 0) parts.push(`URLs removed: ${urls.removed.join(', ')}`)
    if (services.added.length > 0) parts.push(`services added: ${services.added.join(', ')}`)
    if (services.removed.length > 0) parts.push(`services removed: ${services.removed.join(', ')}`)
    if (parts.length === 0 && !same(node, previous)) parts.push('order of URLs or services')
    if (parts.length === 0) continue
    changes.push({
      kind: 'node-changed',
      coordinator: after.pubkey,
      pubkey: node.pubkey,
      urls,
      services,
      summary: `node ${shortKey(node.pubkey)} of ${label} changed: ${parts.join('; ')}`,
    })
  }
  return changes
}

/**
 * What changed from manifest `a` to manifest `b`, in words a guardian reviews before signing:
 * guardians and threshold, coordinators and their nodes, services, dev fund, name, validity.
 * `version` and `previous` are not listed: they change with every proposal.
 */
export function diffManifests(a: Manifest, b: Manifest): ManifestChange[] {
  const changes: ManifestChange[] = []
  if (a.name !== b.name) {
    changes.push({
      kind: 'name',
      from: a.name,
      to: b.name,
      summary: `name changed: "${a.name}" → "${b.name}"`,
    })
  }

  const oldGuardians = new Map(a.guardians.map((g) => [g.pubkey, g]))
  const newGuardians = new Map(b.guardians.map((g) => [g.pubkey, g]))
  for (const guardian of a.guardians) {
    if (newGuardians.has(guardian.pubkey)) continue
    changes.push({
      kind: 'guardian-removed',
      guardian,
      summary: `guardian removed: ${guardian.name} (${shortKey(guardian.pubkey)})`,
    })
  }
  for (const guardian of b.guardians) {
    const before = oldGuardians.get(guardian.pubkey)
    if (before === undefined) {
      changes.push({
        kind: 'guardian-added',
        guardian,
        summary: `guardian added: ${guardian.name} (${shortKey(guardian.pubkey)})`,
      })
    } else if (before.name !== guardian.name) {
      changes.push({
        kind: 'guardian-renamed',
        pubkey: guardian.pubkey,
        from: before.name,
        to: guardian.name,
        summary: `guardian ${shortKey(guardian.pubkey)} renamed: "${before.name}" → "${guardian.name}"`,
      })
    }
  }
  if (a.threshold !== b.threshold || a.guardians.length !== b.guardians.length) {
    changes.push({
      kind: 'threshold',
      from: a.threshold,
      to: b.threshold,
      guardians: b.guardians.length,
      summary:
        `threshold: ${a.threshold} of ${a.guardians.length} guardians → ` +
        `${b.threshold} of ${b.guardians.length}`,
    })
  }

  const oldCoordinators = new Map(a.coordinators.map((c) => [c.pubkey, c]))
  const newCoordinators = new Map(b.coordinators.map((c) => [c.pubkey, c]))
  for (const coordinator of a.coordinators) {
    if (newCoordinators.has(coordinator.pubkey)) continue
    changes.push({
      kind: 'coordinator-removed',
      coordinator,
      summary:
        `coordinator removed: ${coordinator.alias} (${shortKey(coordinator.pubkey)}) ` +
        `with ${coordinator.nodes.length} node${coordinator.nodes.length === 1 ? '' : 's'}`,
    })
  }
  for (const coordinator of b.coordinators) {
    const before = oldCoordinators.get(coordinator.pubkey)
    if (before === undefined) {
      const nodes = coordinator.nodes.map((node) => `${shortKey(node.pubkey)} ${node.urls[0]}`)
      changes.push({
        kind: 'coordinator-added',
        coordinator,
        summary:
          `coordinator added: ${coordinator.alias} (${shortKey(coordinator.pubkey)}) ` +
          `with nodes: ${listed(nodes)}`,
      })
      continue
    }
    const changed = (['alias', 'description', 'contact', 'badges', 'policies'] as const).filter(
      (field) => !same(before[field], coordinator[field]),
    )
    if (changed.length > 0) {
      const alias =
        before.alias === coordinator.alias
          ? coordinator.alias
          : `${before.alias} → ${coordinator.alias}`
      changes.push({
        kind: 'coordinator-changed',
        pubkey: coordinator.pubkey,
        fields: changed,
        summary: `coordinator ${alias} (${shortKey(coordinator.pubkey)}) changed: ${changed.join(', ')}`,
      })
    }
    changes.push(...nodeChanges(before, coordinator))
  }

  for (const [service, params] of Object.entries(a.services)) {
    if (b.services[service] !== undefined) continue
    changes.push({
      kind: 'service-removed',
      service,
      params,
      summary: `service removed: ${service}`,
    })
  }
  for (const [service, params] of Object.entries(b.services)) {
    const before = a.services[service]
    if (before === undefined) {
      changes.push({
        kind: 'service-added',
        service,
        params,
        summary: `service added: ${service} ${canonicalJson(params)}`,
      })
    } else if (!same(before, params)) {
      changes.push({
        kind: 'service-changed',
        service,
        from: before,
        to: params,
        summary: `service ${service} changed: ${canonicalJson(before)} → ${canonicalJson(params)}`,
      })
    }
  }

  if (!same(a.devFund, b.devFund)) {
    changes.push({
      kind: 'dev-fund',
      from: a.devFund,
      to: b.devFund,
      summary:
        `dev fund: ${a.devFund.recipient} at ${a.devFund.suggestedRate} → ` +
        `${b.devFund.recipient} at ${b.devFund.suggestedRate}`,
    })
  }
  if (a.issuedAt !== b.issuedAt || a.expiresAt !== b.expiresAt) {
    changes.push({
      kind: 'validity',
      from: { issuedAt: a.issuedAt, expiresAt: a.expiresAt },
      to: { issuedAt: b.issuedAt, expiresAt: b.expiresAt },
      summary:
        `valid ${unixDate(a.issuedAt)} – ${unixDate(a.expiresAt)} → ` +
        `${unixDate(b.issuedAt)} – ${unixDate(b.expiresAt)}`,
    })
  }
  return changes
}
