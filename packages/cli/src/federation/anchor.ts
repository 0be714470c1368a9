// `hansa federation anchor`: writes the manifest chain's versions that the FederationRegistry
// does not hold yet, one transaction per version, oldest first (the registry takes exactly one
// version more each time, as the chain's rules ask). Each update carries EIP-712 signatures by
// enough of the previous and the new version's guardians: those the guardians posted to the
// node when they signed (registry-sign.ts; the node checked them), checked again here — a node
// is no more trusted than any other sender —, and those of guardian keys given on this machine.
// Short of a threshold, nothing is sent (HANSA_ANCHOR_SHORT names who must still sign); whoever
// pays the gas does not matter.
import {
  FederationRegistry,
  type RegistryUpdate,
  bytes32,
  clientsFor,
  registrySigner,
  registryUpdateOf,
  registryUpdateTypedData,
} from '@hansa/contracts'
import { getChain, getRegistrySignatures, getTerms } from '@hansa/client'
import {
  HansaError,
  type Manifest,
  type SignedManifest,
  ethereumAddressesOfPubkey,
  manifestHash,
  nostrPublicKey,
  verifyChain,
} from '@hansa/protocol'
import { type Address, type Hex, getAddress } from 'viem'
import { signTypedData } from 'viem/accounts'

const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`

/** The registry's update for one manifest version. */
export function registryUpdateFor(federationId: string, manifest: Manifest): RegistryUpdate {
  return registryUpdateOf(federationId, manifestHash(manifest), manifest)
}

export type AnchorOptions = {
  rpcUrl: string
  chainId: number
  registry: string
  federationId: string
  chain: readonly SignedManifest[]
  /** Guardians' secret keys: each signs every update it is a guardian of (old or new). */
  guardianKeys: Uint8Array[]
  /** Signatures gathered elsewhere (a node) for the manifest with this hash; each is checked. */
  gathered?: (hash: string) => Promise<{ guardian: string; signature: string }[]>
  /** Pays the gas. */
  payerKey: Uint8Array
}

export type AnchorResult = {
  registry: string
  before: number
  anchored: { version: number; tx: string; signers: number }[]
}

/** Of `gathered`, those that recover to their guardian's key over `update`, one per guardian. */
async function checkedSignatures(
  gathered: readonly { guardian: string; signature: string }[],
  eligible: ReadonlySet<string>,
  update: RegistryUpdate,
  chainId: number,
  registry: Address,
): Promise<Map<string, Hex>> {
  const valid = new Map<string, Hex>()
  for (const g of gathered) {
    if (typeof g?.guardian !== 'string' || typeof g.signature !== 'string') continue
    if (!eligible.has(g.guardian) || valid.has(g.guardian)) continue
    const signer = await registrySigner(update, chainId, registry, g.signature)
    const addresses = ethereumAddressesOfPubkey(g.guardian) ?? []
    if (signer && addresses.some((a) => a.toLowerCase() === signer.toLowerCase())) {
      valid.set(g.guardian, g.signature as Hex)
    }
  }
  return valid
}

const shortOf = (m: Manifest, signed: ReadonlySet<string>) => {
  const have = m.guardians.filter((g) => signed.has(g.pubkey))
  return {
    have: have.length,
    need: m.threshold,
    missing: m.guardians.filter((g) => !signed.has(g.pubkey)).map((g) => g.name),
  }
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
    const update = registryUpdateFor(o.federationId, m)
    const typed = registryUpdateTypedData(update, o.chainId, registry)
    const hash = manifestHash(m)
    const gathered = o.gathered ? await o.gathered(hash).catch(() => []) : []
    const valid = await checkedSignatures(gathered, eligible, update, o.chainId, registry)
    for (const [pubkey, k] of keyOf) {
      if (eligible.has(pubkey) && !valid.has(pubkey)) {
        valid.set(pubkey, await signTypedData({ privateKey: hex(k), ...typed }))
      }
    }
    const signed = new Set(valid.keys())
    const own = shortOf(m, signed)
    const before = previous ? shortOf(previous, signed) : null
    if (own.have < own.need || (before !== null && before.have < before.need)) {
      throw new HansaError(
        'HANSA_ANCHOR_SHORT',
        `version ${m.version} has registry signatures by ${own.have} of the ${own.need} of its own guardians needed${before ? ` and ${before.have} of the ${before.need} of version ${m.version - 1}'s` : ''}: nothing was sent`,
        {
          details: `Still to sign, any of: ${[...new Set([...(own.have < own.need ? own.missing : []), ...(before && before.have < before.need ? before.missing : [])])].join(', ')} (hansa federation anchor-sign --manifest-version ${m.version}).`,
        },
      )
    }
    const signatures = [...valid.values()]
    const { request } = await publicClient.simulateContract({
      account: walletClient!.account,
      address: registry,
      abi: FederationRegistry.abi,
      functionName: 'anchor',
      args: [update, signatures],
    })
    const tx = await walletClient!.writeContract(request)
    const receipt = await publicClient.waitForTransactionReceipt({ hash: tx })
    if (receipt.status !== 'success')
      throw new Error(`anchoring version ${m.version}: ${tx} reverted`)
    anchored.push({ version: m.version, tx, signers: signatures.length })
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
    gathered: async (hash) => (await getRegistrySignatures(o.node, hash)).signatures,
    payerKey: o.payerKey,
  })
  return { ...result, federationId, head: verified.head.version }
}
