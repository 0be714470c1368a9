// Structural validation of a manifest and a signed manifest: every problem reported with a
// path (`coordinators[0].nodes[1].urls[0]`), in words a guardian acts on. The same shape is
// the TypeBox ManifestSchema of api/federation.ts (for the API and OpenAPI); the checks stay
// written out here because their messages and paths are pinned by the manifest vectors that
// other implementations test against, which a generic schema validator would reword.
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
import {
  type Manifest,
  MANIFEST_FORMAT,
  MANIFEST_LIMITS,
  type SignedManifest,
} from './manifest-types.js'

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
