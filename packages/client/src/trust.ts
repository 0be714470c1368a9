// The user's own trust list (seed 004: "users may add their own servers and choose which
// providers they trust"; seed 000: "users can add and remove federation members as they
// wish"). The manifest says who the federation's members are; the trust list says which of
// them this user wants, and which servers outside it she runs or trusts herself.
//
// - coordinators: per coordinator pubkey, `enabled` or `disabled`; those not named follow
//   `defaultCoordinator` (`enabled`: a deny list; `disabled`: an allow list).
// - customNodes: ws:// or wss:// URLs the user added by hand. They need no manifest entry, but
//   they still prove their key and sign their terms (verify-node.ts); a pinned `pubkey`, when
//   given, must be the key they prove.
// - preferCustom: choose among the user's own nodes first when one offers the service.
//
// Pure functions: each edit returns a new list (inputs are never mutated).
import { HansaError, nodeUrlProblem, isHex64 } from '@hansa/protocol'

export type CoordinatorChoice = 'enabled' | 'disabled'

export type CustomNode = {
  url: string
  /** The key the node must prove, when the user knows it. */
  pubkey?: string
  note?: string
}

export type TrustList = {
  defaultCoordinator: CoordinatorChoice
  coordinators: Record<string, CoordinatorChoice>
  customNodes: CustomNode[]
  preferCustom: boolean
}

export const DEFAULT_TRUST_LIST: TrustList = Object.freeze({
  defaultCoordinator: 'enabled',
  coordinators: Object.freeze({}) as Record<string, CoordinatorChoice>,
  customNodes: Object.freeze([]) as unknown as CustomNode[],
  preferCustom: true,
}) as TrustList

export class TrustListError extends HansaError {
  override name = 'TrustListError'
  constructor(message: string, details?: string) {
    super('HANSA_TRUST_LIST', message, details === undefined ? {} : { details })
  }
}

/** Whether the user's list lets this coordinator's nodes be chosen. */
export function coordinatorEnabled(list: TrustList, coordinator: string): boolean {
  return (list.coordinators[coordinator] ?? list.defaultCoordinator) === 'enabled'
}

export function setCoordinator(
  list: TrustList,
  coordinator: string,
  choice: CoordinatorChoice,
): TrustList {
  return { ...list, coordinators: { ...list.coordinators, [coordinator]: choice } }
}

/** Forgets the user's choice for a coordinator: it follows `defaultCoordinator` again. */
export function resetCoordinator(list: TrustList, coordinator: string): TrustList {
  const { [coordinator]: _removed, ...rest } = list.coordinators
  return { ...list, coordinators: rest }
}

export function setDefaultCoordinator(list: TrustList, choice: CoordinatorChoice): TrustList {
  return { ...list, defaultCoordinator: choice }
}

const normalise = (url: string) => url.replace(/\/+$/, '')

/** Adds (or updates) a custom node. Throws TrustListError for a URL no client could dial. */
export function addCustomNode(list: TrustList, node: CustomNode): TrustList {
  const problem = nodeUrlProblem(node.url)
  if (problem !== null) throw new TrustListError(`the node URL ${problem}`)
  if (node.pubkey !== undefined && !isHex64(node.pubkey)) {
    throw new TrustListError('a pinned pubkey must be 64 lowercase hex characters')
  }
  const url = normalise(node.url)
  const others = list.customNodes.filter((n) => normalise(n.url) !== url)
  return { ...list, customNodes: [...others, { ...node, url }] }
}

/** Removes a custom node by URL; the list is unchanged when it is not there. */
export function removeCustomNode(list: TrustList, url: string): TrustList {
  return {
    ...list,
    customNodes: list.customNodes.filter((n) => normalise(n.url) !== normalise(url)),
  }
}

export function setPreferCustom(list: TrustList, preferCustom: boolean): TrustList {
  return { ...list, preferCustom }
}

/** Reads a trust list from JSON, filling defaults; throws TrustListError naming bad fields. */
export function parseTrustList(value: unknown): TrustList {
  if (value === undefined || value === null) return DEFAULT_TRUST_LIST
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TrustListError('the trust list must be a JSON object')
  }
  const v = value as Record<string, unknown>
  const choice = (x: unknown, path: string): CoordinatorChoice => {
    if (x === 'enabled' || x === 'disabled') return x
    throw new TrustListError(`${path} must be "enabled" or "disabled"`)
  }
  const coordinators: Record<string, CoordinatorChoice> = {}
  if (v.coordinators !== undefined) {
    if (typeof v.coordinators !== 'object' || v.coordinators === null) {
      throw new TrustListError('trust.coordinators must be an object')
    }
    for (const [k, x] of Object.entries(v.coordinators)) {
      coordinators[k] = choice(x, `trust.coordinators.${k}`)
    }
  }
  let list: TrustList = {
    defaultCoordinator:
      v.defaultCoordinator === undefined
        ? 'enabled'
        : choice(v.defaultCoordinator, 'trust.defaultCoordinator'),
    coordinators,
    customNodes: [],
    preferCustom: v.preferCustom === undefined ? true : v.preferCustom === true,
  }
  if (v.customNodes !== undefined && !Array.isArray(v.customNodes)) {
    throw new TrustListError('trust.customNodes must be a list')
  }
  for (const n of (v.customNodes as unknown[] | undefined) ?? []) {
    const node = n as CustomNode
    if (typeof node?.url !== 'string') throw new TrustListError('a custom node needs a url')
    list = addCustomNode(list, node)
  }
  return list
}
