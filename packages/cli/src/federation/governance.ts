// Governance after (and during) the ceremony: sign a pending proposal after reading it,
// propose the next version, list proposals with their changes, show the federation, and
// verify a chain file offline. Plain functions that return data; the commands print it.
import { readFileSync } from 'node:fs'
import {
  type FederationInfo,
  NodeRequestError,
  type Proposal,
  getFederation,
  getProposals,
  postProposal,
  postSignature,
} from '@hansa/client'
import {
  HansaError,
  type Manifest,
  type ManifestEdit,
  type ManifestGuardian,
  type ManifestSignature,
  type SignedManifest,
  decodeInviteCode,
  decodeSetupCode,
  manifestHash,
  nextManifestDraft,
  nodeUrlProblem,
  signManifest,
  verifyChain,
} from '@hansa/protocol'
import { DAY, DEFAULT_SERVICE_PARAMS, parsePubkey, parseService } from './draft.js'
import type { Guardian } from './guardian.js'
import { type RegistrySigning, signForRegistrySafely } from './registry-sign.js'
import { changeLines, inviteCodeFor, manifestLines } from './summary.js'

const usage = (message: string, details?: string) =>
  new HansaError('HANSA_USAGE', message, details === undefined ? {} : { details })

/** Every node URL a manifest lists. */
function nodeUrls(manifest: Manifest | null | undefined): string[] {
  return (manifest?.coordinators ?? []).flatMap((c) => c.nodes.map((n) => n.urls[0]!))
}

function signerNames(guardians: readonly ManifestGuardian[] | null): string {
  if (guardians === null) return ''
  return guardians.length === 0 ? 'none' : guardians.map((g) => g.name).join(', ')
}

/** Where a proposal stands, in one line. */
export function signatureStatus(p: Proposal): string {
  const own = `${p.signers.own.length} of ${p.thresholds.own} from its own guardians (${signerNames(p.signers.own)})`
  if (p.signers.previous === null) return `signatures: ${own}`
  return `signatures: ${p.signers.previous.length} of ${p.thresholds.previous} from the current guardians (${signerNames(p.signers.previous)}); ${own}`
}

// ---------------------------------------------------------------------------------------------
// sign

export type SignParams = {
  nodeUrl: string
  guardian: Guardian
  /** The proposal's hash (or a prefix); needed when several are pending. */
  proposal?: string
  /** Shown the summary; returns whether to sign. Leave out to sign without asking. */
  confirm?: (summary: string[]) => Promise<boolean>
  timeoutMs?: number
}

export type SignResult = {
  hash: string
  version: number
  genesis: boolean
  summary: string[]
  signed: boolean
  alreadySigned: boolean
  posted: { url: string; ok: boolean; adopted?: boolean; error?: string }[]
  adopted: boolean
  federationId: string | null
  inviteCode: string | null
  /** The FederationRegistry signature made beside it (when the node names a registry). */
  registry: RegistrySigning | null
}

function pickProposal(
  proposals: Proposal[],
  wanted: string | undefined,
  nodeUrl: string,
): Proposal {
  if (wanted !== undefined) {
    const found = proposals.filter((p) => p.hash.startsWith(wanted))
    if (found.length === 1) return found[0]!
    throw usage(
      found.length === 0
        ? `no pending proposal ${wanted} on ${nodeUrl}`
        : `${found.length} proposals start with ${wanted}: give more of the hash`,
    )
  }
  if (proposals.length === 1) return proposals[0]!
  if (proposals.length === 0) throw usage(`no pending proposal on ${nodeUrl}`)
  throw usage(
    `${proposals.length} proposals are pending on ${nodeUrl}: choose one with --proposal HASH`,
    proposals.map((p) => `${p.hash.slice(0, 16)} version ${p.version}`).join('; '),
  )
}

/** Posts a guardian's signature to one node: with the proposal (so a node that has not seen it learns it), or alone when the signer may sign but not propose. */
async function postTo(
  url: string,
  manifest: Manifest,
  hash: string,
  signature: ManifestSignature,
  secretKey: Uint8Array,
  timeoutMs: number,
): Promise<{ url: string; ok: boolean; adopted?: boolean; error?: string }> {
  try {
    const r = await postProposal(url, { manifest, signatures: [signature] }, secretKey, {
      timeoutMs,
    })
    return { url, ok: true, adopted: r.adopted }
  } catch (error) {
    if (error instanceof NodeRequestError && error.code === 'HANSA_NOT_GUARDIAN') {
      try {
        const r = await postSignature(url, hash, signature, secretKey, { timeoutMs })
        return { url, ok: true, adopted: r.adopted }
      } catch (inner) {
        return { url, ok: false, error: (inner as Error).message }
      }
    }
    return { url, ok: false, error: (error as Error).message }
  }
}

export async function signProposal(params: SignParams): Promise<SignResult> {
  const timeoutMs = params.timeoutMs ?? 10_000
  const [info, proposals] = await Promise.all([
    getFederation(params.nodeUrl, { timeoutMs }),
    getProposals(params.nodeUrl, { timeoutMs }),
  ])
  const p = pickProposal(proposals, params.proposal, params.nodeUrl)
  const head = info.head?.manifest ?? null
  const me = params.guardian.key.pubkey
  const mine = [...p.manifest.guardians, ...(head?.guardians ?? [])].find((g) => g.pubkey === me)
  if (mine === undefined) {
    throw new HansaError(
      'HANSA_NOT_GUARDIAN',
      `your key ${me.slice(0, 12)}… is a guardian neither of ${head ? `version ${head.version} nor of ` : ''}this proposal`,
    )
  }
  const genesis = head === null
  const summary = [
    genesis
      ? `Genesis draft ${p.hash.slice(0, 16)}… — the federation as it will be founded:`
      : `Proposal ${p.hash.slice(0, 16)}… — version ${p.version} of "${head.name}", changes from version ${head.version}:`,
    ...(genesis ? manifestLines(p.manifest) : changeLines(head, p.manifest)),
    signatureStatus(p),
  ]
  const result: SignResult = {
    hash: p.hash,
    version: p.version,
    genesis,
    summary,
    signed: false,
    alreadySigned: p.signatures.some((s) => s.pubkey === me),
    posted: [],
    adopted: false,
    federationId: info.federationId,
    inviteCode: null,
    registry: null,
  }
  if (result.alreadySigned) return result
  if (params.confirm !== undefined && !(await params.confirm(summary))) return result
  const signature = signManifest(p.manifest, params.guardian.key.secretKey)
  result.signed = true
  // A genesis draft goes to the nodes it founds; a later version to the head's members (nodes
  // it adds follow no federation yet: they receive the chain once it is adopted).
  const members = genesis ? nodeUrls(p.manifest) : nodeUrls(head)
  const targets = [...new Set([params.nodeUrl, ...members])]
  result.posted = await Promise.all(
    targets.map((url) =>
      postTo(url, p.manifest, p.hash, signature, params.guardian.key.secretKey, timeoutMs),
    ),
  )
  result.adopted = result.posted.some((x) => x.adopted)
  // the registry's update for the same version, signed here too: whoever anchors needs no key
  result.registry = await signForRegistrySafely({
    nodeUrl: params.nodeUrl,
    urls: targets,
    manifest: p.manifest,
    guardian: params.guardian,
    timeoutMs,
  })
  if (result.adopted) {
    result.federationId = genesis ? manifestHash(p.manifest) : info.federationId
    result.inviteCode = inviteCodeFor(result.federationId!, p.manifest, params.nodeUrl)
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// propose

export type ProposeEdits = {
  name?: string
  addCoordinator?: string[]
  removeCoordinator?: string[]
  addNode?: string[]
  removeNode?: string[]
  /** URL_OR_PUBKEY=svc1,svc2 */
  nodeServices?: string[]
  setService?: string[]
  removeService?: string[]
  addGuardian?: string[]
  removeGuardian?: string[]
  threshold?: number
  devFund?: string
  /** Allow a proposal that only renews the validity. */
  renew?: boolean
}

export type ProposeParams = {
  nodeUrl: string
  guardian: Guardian
  edits: ProposeEdits
  validDays?: number
  now: number
  timeoutMs?: number
}

export type ProposeResult = {
  hash: string
  version: number
  changes: string[]
  manifest: Manifest
  status: string
  adopted: boolean
  posted: { url: string; ok: boolean; adopted?: boolean; error?: string }[]
  registry: RegistrySigning | null
}

function findNode(head: Manifest, ref: string): string {
  for (const c of head.coordinators) {
    for (const n of c.nodes) if (n.pubkey === ref || n.urls.includes(ref)) return n.pubkey
  }
  throw usage(`no node ${ref} in manifest version ${head.version} (give its pubkey or URL)`)
}

function findCoordinator(head: Manifest, ref: string): string {
  const key = parsePubkey(ref)
  const c = head.coordinators.find((x) => x.pubkey === key || x.alias === ref)
  if (c === undefined) throw usage(`no coordinator ${ref} in manifest version ${head.version}`)
  return c.pubkey
}

function findGuardian(head: Manifest, ref: string): string {
  const key = parsePubkey(ref)
  const g = head.guardians.find((x) => x.pubkey === key || x.name === ref)
  if (g === undefined) throw usage(`no guardian ${ref} in manifest version ${head.version}`)
  return g.pubkey
}

/** The manifest edits the options ask for (looking up new nodes' keys on the nodes). */
export async function editsFrom(
  head: Manifest,
  e: ProposeEdits,
  timeoutMs = 5000,
): Promise<ManifestEdit[]> {
  const edits: ManifestEdit[] = []
  if (e.name !== undefined) edits.push({ op: 'set-name', name: e.name })
  for (const code of e.addGuardian ?? []) {
    const g = decodeSetupCode(code)
    edits.push({ op: 'add-guardian', guardian: { pubkey: g.pubkey, name: g.name } })
  }
  for (const ref of e.removeGuardian ?? []) {
    edits.push({ op: 'remove-guardian', pubkey: findGuardian(head, ref) })
  }
  if (e.threshold !== undefined) edits.push({ op: 'set-threshold', threshold: e.threshold })
  for (const text of e.setService ?? []) {
    const parsed = parseService(text)
    if (typeof parsed === 'string') throw usage(parsed)
    edits.push({ op: 'set-service', service: parsed[0], params: parsed[1] })
  }
  for (const name of e.addCoordinator ?? []) {
    const at = name.indexOf('=')
    const pubkey = at > 0 ? parsePubkey(name.slice(at + 1)) : null
    if (pubkey === null)
      throw usage(`--add-coordinator ${name}: expected ALIAS=PUBKEY (hex or npub)`)
    edits.push({
      op: 'add-coordinator',
      coordinator: { pubkey, alias: name.slice(0, at), description: '', contact: {}, nodes: [] },
    })
  }
  const services = new Set(Object.keys(head.services))
  for (const edit of edits) if (edit.op === 'set-service') services.add(edit.service)
  for (const text of e.addNode ?? []) {
    const at = text.indexOf('=')
    const url = text.slice(at + 1)
    if (at <= 0 || nodeUrlProblem(url) !== null) {
      throw usage(`--add-node ${text}: expected COORDINATOR=ws://host:port`)
    }
    const alias = text.slice(0, at)
    const added = edits.find(
      (x): x is Extract<ManifestEdit, { op: 'add-coordinator' }> =>
        x.op === 'add-coordinator' && x.coordinator.alias === alias,
    )
    const coordinator = added?.coordinator.pubkey ?? findCoordinator(head, alias)
    const info = await getFederation(url, { timeoutMs })
    const runs = info.node.configuredServices.filter((s) => services.has(s))
    if (runs.length === 0) {
      throw usage(
        `node ${url} runs none of the federation's services (${[...services].join(', ')})`,
      )
    }
    edits.push({
      op: 'add-node',
      coordinator,
      node: { pubkey: info.node.pubkey, urls: [url], services: runs },
    })
  }
  for (const text of e.nodeServices ?? []) {
    const at = text.lastIndexOf('=')
    if (at <= 0) throw usage(`--node-services ${text}: expected NODE=svc1,svc2`)
    const list = text
      .slice(at + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    edits.push({ op: 'update-node', pubkey: findNode(head, text.slice(0, at)), services: list })
  }
  for (const ref of e.removeNode ?? [])
    edits.push({ op: 'remove-node', pubkey: findNode(head, ref) })
  for (const ref of e.removeCoordinator ?? []) {
    edits.push({ op: 'remove-coordinator', pubkey: findCoordinator(head, ref) })
  }
  for (const name of e.removeService ?? []) edits.push({ op: 'remove-service', service: name })
  if (e.devFund !== undefined) {
    edits.push({
      op: 'set-dev-fund',
      devFund: {
        recipient: parsePubkey(e.devFund) ?? e.devFund,
        suggestedRate: head.devFund.suggestedRate,
      },
    })
  }
  if (edits.length === 0 && !e.renew) {
    throw usage(
      'nothing to propose: give at least one change (see `hansa federation propose --help`), or --renew to extend the validity only',
    )
  }
  return edits
}

export async function proposeChange(params: ProposeParams): Promise<ProposeResult> {
  const timeoutMs = params.timeoutMs ?? 10_000
  const info = await getFederation(params.nodeUrl, { timeoutMs })
  const head = info.head?.manifest
  if (head === undefined) {
    throw usage(
      `${params.nodeUrl} follows no federation yet: found one with \`hansa federation draft\``,
    )
  }
  if (!head.guardians.some((g) => g.pubkey === params.guardian.key.pubkey)) {
    throw new HansaError(
      'HANSA_NOT_GUARDIAN',
      `your key ${params.guardian.key.pubkey.slice(0, 12)}… is not a guardian of version ${head.version}: only a guardian proposes`,
    )
  }
  const edits = await editsFrom(head, params.edits, timeoutMs)
  const manifest = nextManifestDraft(head, edits, {
    issuedAt: params.now,
    expiresAt: params.now + (params.validDays ?? 365) * DAY,
  })
  const hash = manifestHash(manifest)
  const signature = signManifest(manifest, params.guardian.key.secretKey)
  const targets = [...new Set([params.nodeUrl, ...nodeUrls(head)])]
  const posted = await Promise.all(
    targets.map((url) =>
      postTo(url, manifest, hash, signature, params.guardian.key.secretKey, timeoutMs),
    ),
  )
  const first = posted[0]!
  if (!first.ok) {
    throw new HansaError(
      'HANSA_PROPOSAL_REFUSED',
      `${params.nodeUrl} refused the proposal: ${first.error}`,
    )
  }
  const registry = await signForRegistrySafely({
    nodeUrl: params.nodeUrl,
    urls: targets,
    manifest,
    guardian: params.guardian,
    timeoutMs,
  })
  const proposals = await getProposals(params.nodeUrl, { timeoutMs }).catch(() => [])
  const stored = proposals.find((x) => x.hash === hash)
  return {
    hash,
    version: manifest.version,
    changes: changeLines(head, manifest),
    manifest,
    status: stored ? signatureStatus(stored) : 'adopted',
    adopted: posted.some((x) => x.adopted),
    posted,
    registry,
  }
}

// ---------------------------------------------------------------------------------------------
// proposals, show

export type ProposalsResult = {
  federationId: string | null
  version: number | null
  proposals: (Proposal & { diff: string[]; status: string })[]
}

export async function listProposals(nodeUrl: string): Promise<ProposalsResult> {
  const [info, proposals] = await Promise.all([getFederation(nodeUrl), getProposals(nodeUrl)])
  const head = info.head?.manifest ?? null
  return {
    federationId: info.federationId,
    version: info.version,
    proposals: proposals.map((p) => ({
      ...p,
      diff: head === null ? manifestLines(p.manifest) : changeLines(head, p.manifest),
      status: signatureStatus(p),
    })),
  }
}

export type ShowResult = {
  node: FederationInfo['node']
  status: FederationInfo['status']
  message: string
  federationId: string | null
  version: number | null
  expired: boolean
  manifest: Manifest | null
  summary: string[]
  inviteCode: string | null
  pendingProposals: number
  fork: FederationInfo['fork']
}

export async function showFederation(nodeUrl: string): Promise<ShowResult> {
  const info = await getFederation(nodeUrl)
  const manifest = info.head?.manifest ?? null
  return {
    node: info.node,
    status: info.status,
    message: info.message,
    federationId: info.federationId,
    version: info.version,
    expired: info.expired,
    manifest,
    summary: manifest === null ? [] : manifestLines(manifest),
    inviteCode:
      info.federationId === null || manifest === null
        ? null
        : inviteCodeFor(info.federationId, manifest, nodeUrl),
    pendingProposals: info.pendingProposals,
    fork: info.fork,
  }
}

// ---------------------------------------------------------------------------------------------
// verify (offline)

export type VerifyResult = {
  federationId: string
  version: number
  hash: string
  name: string
  expiresAt: number
  versions: number
}

/**
 * Verifies a chain file (a JSON array of signed manifests, oldest first) against a federation
 * id (or an invite code's). Throws the protocol's error for the first rule broken.
 */
export function verifyChainFile(federation: string, file: string, now: number): VerifyResult {
  let federationId = federation.trim()
  if (!/^[0-9a-f]{64}$/.test(federationId)) {
    if (federationId.toLowerCase().startsWith('hansa1')) {
      federationId = decodeInviteCode(federationId).federationId
    } else {
      throw usage(
        '--federation takes a federation id (64 lowercase hex) or an invite code (hansa1…)',
      )
    }
  }
  let chain: unknown
  try {
    chain = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new HansaError(
      'HANSA_CHAIN_FILE',
      `cannot read ${file} as JSON: ${(cause as Error).message}`,
    )
  }
  const result = verifyChain(federationId, Array.isArray(chain) ? chain : [chain], { now })
  if (!result.ok) throw result.error
  const head = result.head
  return {
    federationId,
    version: head.version,
    hash: head.hash,
    name: head.manifest.name,
    expiresAt: head.manifest.expiresAt,
    versions: (head.chain as SignedManifest[]).length,
  }
}

export { DEFAULT_SERVICE_PARAMS }
