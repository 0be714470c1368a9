// The setup ceremony's draft (`hansa federation draft`): the guardians' setup codes, the
// coordinators and their nodes become a genesis manifest — but only after every check that
// can fail has run, and every problem found is named at once. Fedimint guardians find most
// setup mistakes only at the end (a wrong URL, a node down, a code missing); here the draft is
// refused before anyone signs:
//   setup-code       a code does not decode or its signature does not match
//   guardian-count   not the expected number of codes (--guardians N), or none
//   duplicate        the same guardian key or name twice, a coordinator or node twice
//   threshold        not between 1 and the number of guardians
//   drafter          the drafter's key is not one of the guardians (the draft is posted as one)
//   coordinator      not ALIAS=PUBKEY, or a bad key
//   node             not ALIAS=URL, an unknown coordinator alias, or a bad URL
//   unreachable      a guardian's node or a federation node does not answer
//   incompatible     a node runs another manifest format or another Hansa version
//   already-federated a node already follows a federation
//   node-services    a node runs none of the services the federation lists
//   manifest         anything the manifest validator still finds
// Warnings (the draft still goes ahead): a threshold of half or less (two disjoint groups of
// guardians could sign conflicting versions), all guardians needed, a guardian's node that is
// not a federation node, no node at all.
import { SOFTWARE_VERSION } from '@hansa/node'
import { type FederationInfo, NodeRequestError, getFederation, postProposal } from '@hansa/client'
import {
  MANIFEST_FORMAT,
  type JsonObject,
  type Manifest,
  type ManifestCoordinator,
  type SetupCode,
  decodeSetupCode,
  manifestHash,
  manifestIssues,
  nodeUrlProblem,
} from '@hansa/protocol'
import { nip19 } from 'nostr-tools'
import type { Guardian } from './guardian.js'
import { manifestLines } from './summary.js'

export const DAY = 86_400

/** Default parameters of the services Hansa ships (DESIGN.md's example manifest). */
export const DEFAULT_SERVICE_PARAMS: Record<string, JsonObject> = {
  inbox: { retentionDays: 30 },
  orderbook: { currencies: ['EUR', 'USD'] },
}

export type DraftProblem = { rule: string; message: string }

export type DraftParams = {
  name: string
  threshold: number
  /** Setup codes, one per guardian. */
  guardians: string[]
  /** How many guardians are expected (refuses a draft with more or fewer codes). */
  expectGuardians?: number
  /** ALIAS=PUBKEY (hex or npub). */
  coordinators: string[]
  /** ALIAS=ws://URL: a node run by that coordinator. */
  nodes: string[]
  /** NAME or NAME=JSON params; default: every service some node runs. */
  services?: string[]
  devFund?: string
  devFundRate?: number
  validDays?: number
  /** The drafting guardian (posts the draft to the nodes, NIP-98). */
  guardian: Guardian
  /** Nodes' one-time setup tokens by node URL: a standalone node adopts a genesis only with it. */
  setupTokens?: Record<string, string>
  /** Only check; post nothing. */
  checkOnly?: boolean
  now: number
  timeoutMs?: number
}

export type PostResult = { url: string; ok: boolean; error?: string }

export type DraftResult = {
  ok: boolean
  problems: DraftProblem[]
  warnings: string[]
  manifest: Manifest | null
  hash: string | null
  summary: string[]
  posted: PostResult[]
}

type NodeProbe = { ok: true; info: FederationInfo } | { ok: false; reason: string }

async function probe(url: string, timeoutMs: number): Promise<NodeProbe> {
  try {
    return { ok: true, info: await getFederation(url, { timeoutMs }) }
  } catch (error) {
    const reason =
      error instanceof NodeRequestError && error.status === 404
        ? 'it answers, but not as a Hansa node (no /federation)'
        : (error as Error).message
    return { ok: false, reason }
  }
}

const minor = (v: string) => v.split('.').slice(0, 2).join('.')

/** Problems with a live node: unreachable, incompatible, already in a federation. */
function nodeProblems(what: string, url: string, probed: NodeProbe | undefined): DraftProblem[] {
  if (probed === undefined) return []
  if (!probed.ok)
    return [{ rule: 'unreachable', message: `${what} ${url} does not answer: ${probed.reason}` }]
  const { info } = probed
  const problems: DraftProblem[] = []
  if (info.software.manifestFormat !== MANIFEST_FORMAT) {
    problems.push({
      rule: 'incompatible',
      message: `${what} ${url} reads manifest format ${info.software.manifestFormat}; this command writes format ${MANIFEST_FORMAT}: upgrade one of them`,
    })
  } else if (minor(info.software.version) !== minor(SOFTWARE_VERSION)) {
    problems.push({
      rule: 'incompatible',
      message: `${what} ${url} runs Hansa ${info.software.version}; this command is ${SOFTWARE_VERSION}: run the same release (${minor(SOFTWARE_VERSION)}.x) everywhere`,
    })
  }
  if (info.federationId !== null) {
    problems.push({
      rule: 'already-federated',
      message: `${what} ${url} already follows federation ${info.federationId.slice(0, 12)}…: a node follows one federation; start it with a fresh data folder`,
    })
  }
  return problems
}

function parsePair(text: string): [string, string] | null {
  const at = text.indexOf('=')
  if (at <= 0 || at === text.length - 1) return null
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()]
}

/** A pubkey given as 64 hex or as an npub; null when it is neither. */
export function parsePubkey(text: string): string | null {
  if (/^[0-9a-f]{64}$/.test(text)) return text
  if (text.startsWith('npub1')) {
    try {
      const decoded = nip19.decode(text as `npub1${string}`)
      if (decoded.type === 'npub') return decoded.data
    } catch {
      return null
    }
  }
  return null
}

/** NAME or NAME=JSON → [name, params]. */
export function parseService(text: string): [string, JsonObject] | string {
  const at = text.indexOf('=')
  const name = at < 0 ? text : text.slice(0, at)
  if (at < 0) return [name, DEFAULT_SERVICE_PARAMS[name] ?? {}]
  try {
    const params = JSON.parse(text.slice(at + 1)) as unknown
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      return `service ${name}: parameters must be a JSON object`
    }
    return [name, params as JsonObject]
  } catch {
    return `service ${name}: parameters are not valid JSON`
  }
}

export async function draftFederation(params: DraftParams): Promise<DraftResult> {
  const problems: DraftProblem[] = []
  const warnings: string[] = []
  const add = (rule: string, message: string) => problems.push({ rule, message })
  const timeoutMs = params.timeoutMs ?? 5000

  // Guardians: each code decodes and carries its guardian's signature.
  const guardians: SetupCode[] = []
  params.guardians.forEach((code, i) => {
    try {
      guardians.push(decodeSetupCode(code))
    } catch (error) {
      add(
        'setup-code',
        `guardian code ${i + 1}: ${(error as { reason?: string }).reason ?? (error as Error).message}`,
      )
    }
  })
  if (params.guardians.length === 0) {
    add('guardian-count', 'no guardian setup code: pass --guardian CODE once for each guardian')
  } else if (
    params.expectGuardians !== undefined &&
    params.guardians.length !== params.expectGuardians
  ) {
    add(
      'guardian-count',
      `expected ${params.expectGuardians} guardian setup codes (--guardians), got ${params.guardians.length}: ` +
        (params.guardians.length < params.expectGuardians
          ? 'ask the missing guardians to run `hansa guardian init` and send their code'
          : 'remove the extra codes'),
    )
  }
  const seenKeys = new Map<string, string>()
  const seenNames = new Set<string>()
  for (const g of guardians) {
    const other = seenKeys.get(g.pubkey)
    if (other !== undefined) {
      add(
        'duplicate',
        `guardians ${other} and ${g.name} have the same key ${g.pubkey.slice(0, 12)}…: each guardian needs a key of their own`,
      )
    }
    if (seenNames.has(g.name)) add('duplicate', `two guardians are named "${g.name}"`)
    seenKeys.set(g.pubkey, g.name)
    seenNames.add(g.name)
  }
  const n = params.guardians.length
  const t = params.threshold
  if (!Number.isInteger(t) || t < 1 || (n > 0 && t > n)) {
    add(
      'threshold',
      `the threshold must be a whole number from 1 to ${n || 'the number of guardians'} (got ${t})`,
    )
  } else if (n > 1 && t * 2 <= n) {
    warnings.push(
      `threshold ${t} of ${n}: two groups of guardians that do not overlap could each sign a different next version (a fork); ${Math.floor(n / 2) + 1} of ${n} avoids that`,
    )
  } else if (n > 1 && t === n) {
    warnings.push(
      `threshold ${t} of ${n}: every guardian must sign every change; one lost key freezes the federation`,
    )
  }
  if (guardians.length > 0 && !guardians.some((g) => g.pubkey === params.guardian.key.pubkey)) {
    add(
      'drafter',
      `your guardian key ${params.guardian.key.pubkey.slice(0, 12)}… is not among the setup codes: add your own code (the draft is posted to the nodes as a guardian)`,
    )
  }

  // Coordinators and their nodes.
  const coordinators = new Map<string, ManifestCoordinator>()
  for (const text of params.coordinators) {
    const pair = parsePair(text)
    const pubkey = pair === null ? null : parsePubkey(pair[1])
    if (pair === null || pubkey === null) {
      add(
        'coordinator',
        `--coordinator ${JSON.stringify(text)}: expected ALIAS=PUBKEY (64 hex or npub)`,
      )
      continue
    }
    if (coordinators.has(pair[0])) add('duplicate', `coordinator alias "${pair[0]}" is given twice`)
    if ([...coordinators.values()].some((c) => c.pubkey === pubkey)) {
      add('duplicate', `coordinator key ${pubkey.slice(0, 12)}… is given twice`)
    }
    coordinators.set(pair[0], { pubkey, alias: pair[0], description: '', contact: {}, nodes: [] })
  }
  const nodes: { alias: string; url: string }[] = []
  for (const text of params.nodes) {
    const pair = parsePair(text)
    if (pair === null) {
      add('node', `--node ${JSON.stringify(text)}: expected COORDINATOR_ALIAS=ws://host:port`)
      continue
    }
    const [alias, url] = pair
    const problem = nodeUrlProblem(url)
    if (problem !== null) add('node', `node ${url}: the URL ${problem}`)
    else if (!coordinators.has(alias)) {
      add('node', `node ${url}: no coordinator "${alias}" (pass --coordinator ${alias}=PUBKEY)`)
    } else if (nodes.some((x) => x.url === url)) add('duplicate', `node ${url} is given twice`)
    else nodes.push({ alias, url })
  }
  if (nodes.length === 0 && params.nodes.length === 0) {
    warnings.push('no node: the federation will run no service until a proposal adds one')
  }

  // Live checks, all at once: every guardian's node and every federation node.
  const urls = [...new Set([...guardians.map((g) => g.url), ...nodes.map((x) => x.url)])]
  const probes = new Map<string, NodeProbe>()
  await Promise.all(urls.map(async (url) => probes.set(url, await probe(url, timeoutMs))))
  for (const g of guardians) {
    problems.push(...nodeProblems(`guardian ${g.name}'s node`, g.url, probes.get(g.url)))
  }
  for (const x of nodes) {
    if (guardians.some((g) => g.url === x.url)) continue // already checked as a guardian's node
    problems.push(...nodeProblems(`node`, x.url, probes.get(x.url)))
  }
  for (const g of guardians) {
    if (!nodes.some((x) => x.url === g.url)) {
      warnings.push(
        `guardian ${g.name}'s node ${g.url} is not a federation node: it will keep the chain for governance but run no federation service`,
      )
    }
  }

  // Services: given, or every service one of the nodes runs.
  const services: Record<string, JsonObject> = {}
  const given = params.services ?? []
  for (const text of given) {
    const parsed = parseService(text)
    if (typeof parsed === 'string') add('service', parsed)
    else services[parsed[0]] = parsed[1]
  }
  if (given.length === 0) {
    for (const x of nodes) {
      const p = probes.get(x.url)
      for (const s of p?.ok ? p.info.node.configuredServices : []) {
        services[s] ??= DEFAULT_SERVICE_PARAMS[s] ?? {}
      }
    }
    if (Object.keys(services).length === 0) services.inbox = DEFAULT_SERVICE_PARAMS.inbox!
  }
  const nodeKeys = new Map<string, string>()
  for (const x of nodes) {
    const p = probes.get(x.url)
    if (!p?.ok) continue
    const pubkey = p.info.node.pubkey
    const other = nodeKeys.get(pubkey)
    if (other !== undefined) {
      add('duplicate', `${other} and ${x.url} are the same node (key ${pubkey.slice(0, 12)}…)`)
      continue
    }
    nodeKeys.set(pubkey, x.url)
    const runs = p.info.node.configuredServices.filter((s) => services[s] !== undefined)
    if (runs.length === 0) {
      add(
        'node-services',
        `node ${x.url} runs none of the federation's services (${Object.keys(services).join(', ')}); it runs ${p.info.node.configuredServices.join(', ') || 'nothing'}`,
      )
      continue
    }
    coordinators.get(x.alias)!.nodes.push({ pubkey, urls: [x.url], services: runs })
  }

  const devFund =
    params.devFund === undefined
      ? params.guardian.key.pubkey
      : (parsePubkey(params.devFund) ?? params.devFund)
  const manifest: Manifest = {
    hansa: 1,
    name: params.name,
    version: 1,
    previous: null,
    issuedAt: params.now,
    expiresAt: params.now + (params.validDays ?? 365) * DAY,
    guardians: guardians.map((g) => ({ pubkey: g.pubkey, name: g.name })),
    threshold: t,
    coordinators: [...coordinators.values()],
    services,
    devFund: { recipient: devFund, suggestedRate: params.devFundRate ?? 0.2 },
  }
  if (problems.length === 0) {
    for (const issue of manifestIssues(manifest)) {
      add('manifest', `${issue.path || 'manifest'}: ${issue.message}`)
    }
  }
  const result: DraftResult = {
    ok: problems.length === 0,
    problems,
    warnings,
    manifest: problems.length === 0 ? manifest : null,
    hash: problems.length === 0 ? manifestHash(manifest) : null,
    summary: problems.length === 0 ? manifestLines(manifest) : [],
    posted: [],
  }
  if (!result.ok || params.checkOnly) return result

  // Post the draft to every guardian's node and every federation node, as the drafter.
  for (const url of urls) {
    try {
      const setupToken = params.setupTokens?.[url.replace(/\/+$/, '')]
      await postProposal(url, { manifest }, params.guardian.key.secretKey, {
        timeoutMs,
        ...(setupToken === undefined ? {} : { setupToken }),
      })
      result.posted.push({ url, ok: true })
    } catch (error) {
      result.posted.push({ url, ok: false, error: (error as Error).message })
    }
  }
  if (!result.posted.some((p) => p.ok)) {
    result.ok = false
    add('post', 'no node accepted the draft; see the errors above')
  }
  return result
}
