// The setup ceremony's draft, checked before anyone signs (docs/federation.md, Fedimint's
// guardians' most common failures found early): every guardian's setup code decodes and is
// signed by its key, the expected number of codes, no duplicates, a sane threshold, the
// drafter among the guardians, coordinators and nodes well formed, and — all at once — every
// guardian's node and federation node answering, with a compatible manifest format and Hansa
// release, not already in a federation, and running at least one federation service. Every
// problem is named, by rule, at once; the manifest (and its hash, the verification code every
// guardian compares) is given only when there is none. For any app: the web app's ceremony
// uses it; the same rules as `hansa federation draft`.
import {
  type JsonObject,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestCoordinator,
  type SetupCode,
  decodeSetupCode,
  manifestHash,
  manifestIssues,
  nodeUrlProblem,
} from '@hansa/protocol'
import { type FederationInfo, getFederation } from './federation-api.js'

export type DraftProblem = { rule: string; message: string }

export type FederationDraftParams = {
  name: string
  threshold: number
  /** Setup codes (hansasetup1…), one per guardian. */
  guardians: string[]
  /** How many codes there must be (the number of guardians agreed on). */
  expectGuardians?: number
  /** The drafting guardian's pubkey: must be among the codes. */
  drafter: string
  coordinators: { alias: string; pubkey: string }[]
  nodes: { coordinator: string; url: string }[]
  /** The release the nodes must share (major.minor); default: that of the first node that answers. */
  software?: string
  services?: Record<string, JsonObject>
  devFund?: { recipient: string; suggestedRate: number }
  now: number
  validDays?: number
  timeoutMs?: number
}

export type FederationDraftCheck = {
  ok: boolean
  problems: DraftProblem[]
  warnings: string[]
  manifest: Manifest | null
  /** sha256 of the canonical manifest: the verification code each guardian compares. */
  hash: string | null
}

export const DEFAULT_SERVICE_PARAMS: Record<string, JsonObject> = {
  inbox: { retentionDays: 30 },
  orderbook: { currencies: ['EUR', 'USD'] },
}

const minor = (v: string) => v.split('.').slice(0, 2).join('.')

export async function checkFederationDraft(
  p: FederationDraftParams,
): Promise<FederationDraftCheck> {
  const problems: DraftProblem[] = []
  const warnings: string[] = []
  const add = (rule: string, message: string) => problems.push({ rule, message })
  const guardians: SetupCode[] = []
  p.guardians.forEach((code, i) => {
    try {
      guardians.push(decodeSetupCode(code.trim()))
    } catch (error) {
      add(
        'setup-code',
        `setup code ${i + 1}: ${(error as { reason?: string }).reason ?? (error as Error).message}`,
      )
    }
  })
  const n = p.guardians.length
  if (n === 0) add('guardian-count', 'no setup code: collect one from each guardian')
  else if (p.expectGuardians !== undefined && n !== p.expectGuardians) {
    add(
      'guardian-count',
      `expected ${p.expectGuardians} setup codes, got ${n}: ${n < p.expectGuardians ? 'ask the missing guardians for theirs' : 'remove the extra codes'}`,
    )
  }
  const keys = new Map<string, string>()
  const names = new Set<string>()
  for (const g of guardians) {
    const other = keys.get(g.pubkey)
    if (other !== undefined)
      add(
        'duplicate',
        `guardians ${other} and ${g.name} have the same key: each needs a key of their own`,
      )
    if (names.has(g.name)) add('duplicate', `two guardians are named "${g.name}"`)
    keys.set(g.pubkey, g.name)
    names.add(g.name)
  }
  const t = p.threshold
  if (!Number.isInteger(t) || t < 1 || (n > 0 && t > n)) {
    add(
      'threshold',
      `the threshold must be a whole number from 1 to ${n || 'the number of guardians'} (got ${t})`,
    )
  } else if (n > 1 && t * 2 <= n) {
    warnings.push(
      `threshold ${t} of ${n}: two groups that do not overlap could each sign a different next version; ${Math.floor(n / 2) + 1} of ${n} avoids that`,
    )
  } else if (n > 1 && t === n) {
    warnings.push(
      `threshold ${t} of ${n}: every guardian must sign every change; one lost key freezes the federation`,
    )
  }
  if (guardians.length > 0 && !guardians.some((g) => g.pubkey === p.drafter)) {
    add(
      'drafter',
      `your guardian key ${p.drafter.slice(0, 12)}… is not among the setup codes: add your own code`,
    )
  }
  const coordinators = new Map<string, ManifestCoordinator>()
  for (const c of p.coordinators) {
    if (!/^[0-9a-f]{64}$/.test(c.pubkey) || c.alias.trim() === '') {
      add('coordinator', `coordinator "${c.alias}": needs an alias and a 64-hex pubkey`)
      continue
    }
    if (coordinators.has(c.alias)) add('duplicate', `coordinator alias "${c.alias}" is given twice`)
    coordinators.set(c.alias, {
      pubkey: c.pubkey,
      alias: c.alias,
      description: '',
      contact: {},
      nodes: [],
    })
  }
  const nodes: { coordinator: string; url: string }[] = []
  for (const x of p.nodes) {
    const problem = nodeUrlProblem(x.url)
    if (problem !== null) add('node', `node ${x.url}: the URL ${problem}`)
    else if (!coordinators.has(x.coordinator))
      add('node', `node ${x.url}: no coordinator "${x.coordinator}"`)
    else if (nodes.some((y) => y.url === x.url)) add('duplicate', `node ${x.url} is given twice`)
    else nodes.push(x)
  }
  if (nodes.length === 0)
    warnings.push('no node: the federation will run no service until a proposal adds one')

  const urls = [...new Set([...guardians.map((g) => g.url), ...nodes.map((x) => x.url)])]
  const probes = new Map<string, FederationInfo | string>()
  await Promise.all(
    urls.map(async (url) => {
      try {
        probes.set(url, await getFederation(url, { timeoutMs: p.timeoutMs ?? 5000 }))
      } catch (error) {
        probes.set(url, (error as Error).message)
      }
    }),
  )
  const software =
    p.software ??
    [...probes.values()].find((x): x is FederationInfo => typeof x !== 'string')?.software.version
  const check = (what: string, url: string) => {
    const info = probes.get(url)
    if (info === undefined) return
    if (typeof info === 'string')
      return add('unreachable', `${what} ${url} does not answer: ${info}`)
    if (info.software.manifestFormat !== MANIFEST_FORMAT) {
      add(
        'incompatible',
        `${what} ${url} reads manifest format ${info.software.manifestFormat}, not ${MANIFEST_FORMAT}: upgrade one of them`,
      )
    } else if (software !== undefined && minor(info.software.version) !== minor(software)) {
      add(
        'incompatible',
        `${what} ${url} runs Hansa ${info.software.version}, the others ${software}: run the same release everywhere`,
      )
    }
    if (info.federationId !== null) {
      add(
        'already-federated',
        `${what} ${url} already follows federation ${info.federationId.slice(0, 12)}…: start it with a fresh data folder`,
      )
    }
  }
  for (const g of guardians) check(`guardian ${g.name}'s node`, g.url)
  for (const x of nodes) if (!guardians.some((g) => g.url === x.url)) check('node', x.url)
  for (const g of guardians) {
    if (!nodes.some((x) => x.url === g.url)) {
      warnings.push(
        `guardian ${g.name}'s node ${g.url} is not a federation node: it keeps the chain but runs no service`,
      )
    }
  }
  const services: Record<string, JsonObject> = { ...(p.services ?? {}) }
  if (p.services === undefined) {
    for (const x of nodes) {
      const info = probes.get(x.url)
      for (const s of typeof info === 'object' ? info.node.configuredServices : []) {
        services[s] ??= DEFAULT_SERVICE_PARAMS[s] ?? {}
      }
    }
    if (Object.keys(services).length === 0) services.inbox = DEFAULT_SERVICE_PARAMS.inbox!
  }
  const seen = new Map<string, string>()
  for (const x of nodes) {
    const info = probes.get(x.url)
    if (typeof info !== 'object') continue
    const other = seen.get(info.node.pubkey)
    if (other !== undefined) {
      add('duplicate', `${other} and ${x.url} are the same node`)
      continue
    }
    seen.set(info.node.pubkey, x.url)
    const runs = info.node.configuredServices.filter((s) => services[s] !== undefined)
    if (runs.length === 0) {
      add(
        'node-services',
        `node ${x.url} runs none of the federation's services (${Object.keys(services).join(', ')})`,
      )
      continue
    }
    coordinators
      .get(x.coordinator)!
      .nodes.push({ pubkey: info.node.pubkey, urls: [x.url], services: runs })
  }
  const manifest: Manifest = {
    hansa: 1,
    name: p.name,
    version: 1,
    previous: null,
    issuedAt: p.now,
    expiresAt: p.now + (p.validDays ?? 365) * 86_400,
    guardians: guardians.map((g) => ({ pubkey: g.pubkey, name: g.name })),
    threshold: t,
    coordinators: [...coordinators.values()],
    services,
    devFund: p.devFund ?? { recipient: p.drafter, suggestedRate: 0.2 },
  }
  if (problems.length === 0) {
    for (const issue of manifestIssues(manifest))
      add('manifest', `${issue.path || 'manifest'}: ${issue.message}`)
  }
  const ok = problems.length === 0
  return {
    ok,
    problems,
    warnings,
    manifest: ok ? manifest : null,
    hash: ok ? manifestHash(manifest) : null,
  }
}
