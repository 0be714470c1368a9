// The diff guardians review before signing a proposal: what changes from one manifest version
// to the next, each change with a one-line summary.
import { canonicalJson } from './canonical-json.js'
import type {
  DevFund,
  JsonObject,
  Manifest,
  ManifestCoordinator,
  ManifestGuardian,
  ManifestNode,
} from './manifest-types.js'

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
