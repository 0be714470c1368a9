// The FederationRegistry's update as EIP-712 typed data: what guardians sign to anchor a
// manifest version on chain. Hashes and keys are 32-byte hex (a federation id and a manifest
// hash are sha256 hex; guardians and nodes are x-only Nostr pubkeys).
import { type Address, type Hex, recoverTypedDataAddress } from 'viem'

export type RegistryUpdate = {
  federationId: Hex
  version: bigint
  manifestHash: Hex
  guardians: Hex[]
  threshold: number
  nodes: Hex[]
  /** Per node, its services joined by commas. */
  services: string[]
}

export const REGISTRY_DOMAIN_NAME = 'Hansa Federation Registry'
export const REGISTRY_UPDATE_TYPES = {
  Update: [
    { name: 'federationId', type: 'bytes32' },
    { name: 'version', type: 'uint64' },
    { name: 'manifestHash', type: 'bytes32' },
    { name: 'guardians', type: 'bytes32[]' },
    { name: 'threshold', type: 'uint8' },
    { name: 'nodes', type: 'bytes32[]' },
    { name: 'services', type: 'string[]' },
  ],
} as const

export function registryUpdateTypedData(
  update: RegistryUpdate,
  chainId: number,
  registry: Address,
) {
  return {
    domain: { name: REGISTRY_DOMAIN_NAME, version: '1', chainId, verifyingContract: registry },
    types: REGISTRY_UPDATE_TYPES,
    primaryType: 'Update' as const,
    message: update,
  }
}

/** 64 lowercase hex (a sha256 or an x-only key) as a bytes32. */
export const bytes32 = (hex: string): Hex => {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError(`not 32 bytes of lowercase hex: ${hex}`)
  return `0x${hex}`
}

/** What of a manifest the registry keeps (the protocol's Manifest has these fields). */
export type RegistryManifest = {
  version: number
  guardians: readonly { pubkey: string }[]
  threshold: number
  coordinators: readonly { nodes: readonly { pubkey: string; services: readonly string[] }[] }[]
}

/** The registry's update for one manifest version (`manifestHash`: its sha256, 64 hex). */
export function registryUpdateOf(
  federationId: string,
  manifestHash: string,
  manifest: RegistryManifest,
): RegistryUpdate {
  const nodes = manifest.coordinators.flatMap((c) => c.nodes)
  return {
    federationId: bytes32(federationId),
    version: BigInt(manifest.version),
    manifestHash: bytes32(manifestHash),
    guardians: manifest.guardians.map((g) => bytes32(g.pubkey)),
    threshold: manifest.threshold,
    nodes: nodes.map((n) => bytes32(n.pubkey)),
    services: nodes.map((n) => n.services.join(',')),
  }
}

/** A 65-byte ECDSA signature as 0x and 130 hex digits. */
export const REGISTRY_SIGNATURE = /^0x[0-9a-fA-F]{130}$/

/** The address whose key made `signature` over the update's EIP-712 digest; null if none. */
export async function registrySigner(
  update: RegistryUpdate,
  chainId: number,
  registry: Address,
  signature: string,
): Promise<Address | null> {
  if (!REGISTRY_SIGNATURE.test(signature)) return null
  try {
    return await recoverTypedDataAddress({
      ...registryUpdateTypedData(update, chainId, registry),
      signature: signature as Hex,
    })
  } catch {
    return null
  }
}
