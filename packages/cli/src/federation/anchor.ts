// `hansa federation anchor`: writes the manifest chain's versions that the FederationRegistry
// does not hold yet, one transaction per version, oldest first (the registry takes exactly one
// version more each time, as the chain's rules ask). Each update carries EIP-712 signatures by
// the guardians whose keys are given (enough of the previous and the new version's guardians);
// whoever pays the gas does not matter. A federation whose guardians sign apart would collect
// these signatures beside the manifest's own, in the proposal (not built: docs/settlement.md).
import {
  FederationRegistry,
  type RegistryUpdate,
  bytes32,
  clientsFor,
  registryUpdateTypedData,
} from '@hansa/contracts'
import { getChain, getTerms } from '@hansa/client'
import {
  HansaError,
  type Manifest,
  type SignedManifest,
  manifestHash,
  nostrPublicKey,
  verifyChain,
} from '@hansa/protocol'
import { type Address, type Hex, getAddress } from 'viem'
import { signTypedData } from 'viem/accounts'

const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`

/** The registry's update for one manifest version. */
export function registryUpdateFor(federationId: string, manifest: Manifest): RegistryUpdate {
  const nodes = manifest.coordinators.flatMap((c) => c.nodes)
  return {
    federationId: bytes32(federationId),
    version: BigInt(manifest.version),
    manifestHash: bytes32(manifestHash(manifest)),
    guardians: manifest.guardians.map((g) => bytes32(g.pubkey)),
    threshold: manifest.threshold,
    nodes: nodes.map((n) => bytes32(n.pubkey)),
    services: nodes.map((n) => n.services.join(',')),
  }
}

export type AnchorOptions = {
  rpcUrl: string
  chainId: number
  registry: string
  federationId: string
  chain: readonly SignedManifest[]
  /** Guardians' secret keys: each signs every update it is a guardian of (old or new). */
  guardianKeys: Uint8Array[]
  /** Pays the gas. */
  payerKey: Uint8Array
}

export type AnchorResult = {
  registry: string
  before: number
  anchored: { version: number; tx: string; signers: number }[]
}

export async function anchorChain(o: AnchorOptions): Promise<AnchorResult> {
  const registry = getAddress(o.registry) as Address
  const { publicClient, walletClient } = clientsFor(o.rpcUrl, o.chainId, hex(o.payerKey))
  const [onChain] = await publicClient.readContract({
    address: registry,
    abi: FederationRegistry.abi,
    functionName: 'head',
    args: [bytes32(o.federationId)],
  })
  const keyOf = new Map(o.guardianKeys.map((k) => [nostrPublicKey(k), k]))
  const anchored: AnchorResult['anchored'] = []
  for (const entry of o.chain) {
    const m = entry.manifest
    if (m.version <= Number(onChain)) continue
    const previous = o.chain.find((e) => e.manifest.version === m.version - 1)?.manifest
    const eligible = new Set([
      ...m.guardians.map((g) => g.pubkey),
      ...(previous?.guardians.map((g) => g.pubkey) ?? []),
    ])
    const signers = [...keyOf].filter(([pubkey]) => eligible.has(pubkey)).map(([, k]) => k)
    const update = registryUpdateFor(o.federationId, m)
    const typed = registryUpdateTypedData(update, o.chainId, registry)
    const signatures = await Promise.all(
      signers.map((k) => signTypedData({ privateKey: hex(k), ...typed })),
    )
    const { request } = await publicClient.simulateContract({
      account: walletClient!.account,
      address: registry,
      abi: FederationRegistry.abi,
      functionName: 'anchor',
      args: [update, signatures],
    })
    const hash = await walletClient!.writeContract(request)
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success')
      throw new Error(`anchoring version ${m.version}: ${hash} reverted`)
    anchored.push({ version: m.version, tx: hash, signers: signers.length })
  }
  return { registry, before: Number(onChain), anchored }
}

/** The command: the chain from a node (verified), the registry from its terms or --registry. */
export async function anchorFromNode(o: {
  node: string
  rpcUrl: string
  registry?: string
  guardianKeys: Uint8Array[]
  payerKey: Uint8Array
}): Promise<AnchorResult & { federationId: string; head: number }> {
  const raw = await getChain(o.node)
  const first = raw[0] as SignedManifest | undefined
  if (!first) throw new HansaError('HANSA_USAGE', `${o.node} follows no federation`)
  const federationId = manifestHash(first.manifest)
  const verified = verifyChain(federationId, raw, { now: Math.floor(Date.now() / 1000) })
  if (!verified.ok) throw verified.error
  const { terms } = await getTerms(o.node)
  const registry = o.registry ?? terms.settlement.evm?.registry
  if (!registry) {
    throw new HansaError(
      'HANSA_USAGE',
      `${o.node}'s terms name no registry: give one with --registry <address>`,
    )
  }
  const result = await anchorChain({
    rpcUrl: o.rpcUrl,
    chainId: terms.settlement.chainId,
    registry,
    federationId,
    chain: verified.head.chain,
    guardianKeys: o.guardianKeys,
    payerKey: o.payerKey,
  })
  return { ...result, federationId, head: verified.head.version }
}
