// The on-chain registry (seed 004's "verified using a smart contract"): does the
// FederationRegistry list each node, and does the anchored head match the manifest head the
// client trusts? States: `anchored` (same version and hash), `behind` (the registry holds an
// older version), `ahead` (the registry holds a newer one: refresh the manifest), `mismatch`
// (same version, another hash: someone is lying), `unanchored` (never anchored). With
// `required`, a node the registry does not list is rejected, with the reason.
import { HansaError } from '@hansa/protocol'
import type { Address, Hex, PublicClient } from 'viem'
import type { Eip1193Provider } from './evm-eip1193.js'
import type { NodeReport } from './policy.js'

export type RegistryOptions = {
  /** The chain's JSON-RPC URL (the CLI: --rpc-url, HANSA_RPC_URL). */
  rpcUrl?: string
  /**
   * Or an EIP-1193 provider to read it through (a browser wallet's `window.ethereum`): the
   * page has no RPC URL of its own, and the wallet's node is one the user chose, not the
   * Hansa node's. It must be on the registry's chain.
   */
  provider?: Eip1193Provider
  /** The registry (default: the one the nodes' terms name). */
  address?: string
  /** Default: the chain id the nodes' terms name. */
  chainId?: number
  /** Reject nodes the registry does not list (default false: report only). */
  required?: boolean
}

export type RegistryState = 'anchored' | 'behind' | 'ahead' | 'mismatch' | 'unanchored'

export type RegistryReport = {
  registry: string
  chainId: number
  state: RegistryState
  anchored: { version: number; hash: string } | null
  /** Node pubkey → whether the registry lists it. */
  listed: Record<string, boolean>
}

/** Compares the registry's head with the client's (same version: hashes must agree). */
export function registryState(
  anchored: { version: number; hash: string } | null,
  head: { version: number; hash: string },
): RegistryState {
  if (anchored === null || anchored.version === 0) return 'unanchored'
  if (anchored.version < head.version) return 'behind'
  if (anchored.version > head.version) return 'ahead'
  return anchored.hash === head.hash ? 'anchored' : 'mismatch'
}

/** A client that reads `chainId`: over the RPC URL, or through the provider when it is on that chain. */
async function registryReader(
  options: RegistryOptions,
  chainId: number,
): Promise<Pick<PublicClient, 'readContract'>> {
  if (options.provider) {
    const { createPublicClient, custom } = await import('viem')
    const reader = createPublicClient({ transport: custom(options.provider) })
    const on = await reader.getChainId()
    if (on !== chainId) {
      throw new HansaError(
        'HANSA_EVM_WRONG_CHAIN',
        `the wallet is on chain ${on}; the registry is on chain ${chainId}`,
        { details: `Switch the wallet to chain ${chainId} to read the registry.` },
      )
    }
    return reader
  }
  if (options.rpcUrl === undefined) {
    throw new HansaError('HANSA_USAGE', 'a registry check needs the chain: rpcUrl or provider')
  }
  const { clientsFor } = await import('@hansa/contracts')
  return clientsFor(options.rpcUrl, chainId).publicClient
}

/** Reads the registry for `federationId` and marks the reports (rejecting when required). */
export async function checkRegistry(
  options: RegistryOptions,
  federationId: string,
  head: { version: number; hash: string },
  reports: NodeReport[],
): Promise<RegistryReport | null> {
  const withTerms = reports.find((r) => r.terms?.settlement.evm?.registry)
  const address = options.address ?? withTerms?.terms?.settlement.evm?.registry ?? null
  const chainId = options.chainId ?? withTerms?.terms?.settlement.chainId
  if (address === null || chainId === undefined) return null
  // loaded here, not with the package: only a client that checks a registry needs viem
  const [{ FederationRegistry }, { getAddress }] = await Promise.all([
    import('@hansa/contracts'),
    import('viem'),
  ])
  const publicClient = await registryReader(options, chainId)
  const fed = `0x${federationId}` as Hex
  const [version, hash] = await publicClient.readContract({
    address: getAddress(address) as Address,
    abi: FederationRegistry.abi,
    functionName: 'head',
    args: [fed],
  })
  const anchored = version === 0n ? null : { version: Number(version), hash: hash.slice(2) }
  const listed: Record<string, boolean> = {}
  for (const r of reports) {
    if (r.pubkey === null || r.pubkey in listed) continue
    const [member] = await publicClient.readContract({
      address: getAddress(address) as Address,
      abi: FederationRegistry.abi,
      functionName: 'isMember',
      args: [fed, `0x${r.pubkey}` as Hex],
    })
    listed[r.pubkey] = member
  }
  const state = registryState(anchored, head)
  if (options.required) {
    for (const r of reports) {
      if (r.status === 'rejected' || r.pubkey === null || listed[r.pubkey]) continue
      r.status = 'rejected'
      r.reason = `not listed in the on-chain registry ${getAddress(address)} for this federation (registry ${state}${anchored ? ` at version ${anchored.version}` : ''})`
      r.services = []
    }
  }
  return { registry: getAddress(address), chainId, state, anchored, listed }
}
