// A guardian's signature of the FederationRegistry update for one manifest version, made on her
// own machine and posted to the federation's nodes (they check it is hers and keep it beside
// the proposal: node/src/federation/registry-signatures.ts). `hansa federation sign` and
// `propose` add it when the node names a registry; `hansa federation anchor-sign` makes it for
// a version already adopted. Whoever anchors later reads the signatures from a node
// (`hansa federation anchor`) and needs no guardian key.
import { getChain, getTerms, postRegistrySignature } from '@hansa/client'
import { registryUpdateOf, registryUpdateTypedData } from '@hansa/contracts'
import {
  HansaError,
  type Manifest,
  type SignedManifest,
  manifestHash,
  verifyChain,
  verifyManifestSignature,
} from '@hansa/protocol'
import { type Address, type Hex, getAddress } from 'viem'
import { signTypedData } from 'viem/accounts'
import type { Guardian } from './guardian.js'

export type RegistrySigning = {
  /** The registry signed for; null when the node names none (nothing was signed). */
  registry: string | null
  chainId: number | null
  posted: { url: string; ok: boolean; error?: string }[]
  /** Why nothing was signed, when signing failed (the manifest signature stands regardless). */
  error?: string
}

/** signForRegistry that never throws: a failure is reported, the manifest signing stands. */
export const signForRegistrySafely = (o: Parameters<typeof signForRegistry>[0]) =>
  signForRegistry(o).catch(
    (error): RegistrySigning => ({
      registry: null,
      chainId: null,
      posted: [],
      error: (error as Error).message,
    }),
  )

const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`

/** The registry a node's terms name, with its chain; null when it names none or cannot say. */
export async function registryOf(
  nodeUrl: string,
  timeoutMs = 10_000,
): Promise<{ registry: string; chainId: number } | null> {
  try {
    const { terms } = await getTerms(nodeUrl, undefined, { timeoutMs })
    const registry = terms.settlement.evm?.registry
    return registry ? { registry, chainId: terms.settlement.chainId } : null
  } catch {
    return null
  }
}

/**
 * The federation id a manifest belongs to: its own hash for a genesis; else read from the
 * node's chain, which must verify and hold the version before it under the hash the manifest
 * names as `previous` (a node cannot slip in another federation's id).
 */
export async function federationIdFor(
  nodeUrl: string,
  manifest: Manifest,
  timeoutMs = 10_000,
): Promise<string> {
  if (manifest.version === 1) return manifestHash(manifest)
  const chain = (await getChain(nodeUrl, 1, { timeoutMs })) as SignedManifest[]
  const first = chain[0]
  if (!first) throw new HansaError('HANSA_USAGE', `${nodeUrl} follows no federation`)
  const federationId = manifestHash(first.manifest)
  const verified = verifyChain(federationId, chain, { now: Math.floor(Date.now() / 1000) })
  if (!verified.ok) throw verified.error
  const before = chain.find((s) => s.manifest.version === manifest.version - 1)
  if (!before || manifestHash(before.manifest) !== manifest.previous) {
    throw new HansaError(
      'HANSA_USAGE',
      `${nodeUrl}'s chain does not hold the version that version ${manifest.version} follows`,
    )
  }
  return federationId
}

/** Signs `manifest`'s registry update and posts it to `urls` (each answer reported). */
export async function signForRegistry(o: {
  nodeUrl: string
  urls: readonly string[]
  /** Default: read from the node's chain and checked (federationIdFor). */
  federationId?: string
  manifest: Manifest
  guardian: Guardian
  /** The registry and chain (default: what `nodeUrl`'s terms name). */
  registry?: { registry: string; chainId: number } | null
  timeoutMs?: number
}): Promise<RegistrySigning> {
  const timeoutMs = o.timeoutMs ?? 10_000
  const where = o.registry === undefined ? await registryOf(o.nodeUrl, timeoutMs) : o.registry
  if (where === null) return { registry: null, chainId: null, posted: [] }
  const hash = manifestHash(o.manifest)
  const federationId = o.federationId ?? (await federationIdFor(o.nodeUrl, o.manifest, timeoutMs))
  const typed = registryUpdateTypedData(
    registryUpdateOf(federationId, hash, o.manifest),
    where.chainId,
    getAddress(where.registry) as Address,
  )
  const signature = await signTypedData({ privateKey: hex(o.guardian.key.secretKey), ...typed })
  const body = { hash, chainId: where.chainId, registry: where.registry, signature }
  const posted = await Promise.all(
    [...new Set(o.urls)].map(async (url) => {
      try {
        await postRegistrySignature(url, body, o.guardian.key.secretKey, { timeoutMs })
        return { url, ok: true }
      } catch (error) {
        return { url, ok: false, error: (error as Error).message }
      }
    }),
  )
  return { registry: where.registry, chainId: where.chainId, posted }
}

/** Lines for a person: where the registry signature went. */
export function registryLines(r: RegistrySigning | null): string[] {
  if (r?.error) return [`Registry signature not made: ${r.error}`]
  if (r === null || r.registry === null) return []
  const ok = r.posted.filter((p) => p.ok)
  return [
    `Registry signature (FederationRegistry ${r.registry}, chain ${r.chainId}) sent to ${ok.length} of ${r.posted.length} node(s).`,
    ...r.posted.filter((p) => !p.ok).map((p) => `  ✗ ${p.url}: ${p.error}`),
  ]
}

/** `hansa federation anchor-sign`: sign a version of the node's chain (default its head). */
export async function anchorSign(o: {
  nodeUrl: string
  guardian: Guardian
  version?: number
  timeoutMs?: number
}): Promise<RegistrySigning & { version: number; hash: string }> {
  const chain = (await getChain(o.nodeUrl, 1, { timeoutMs: o.timeoutMs ?? 10_000 })) as
    | SignedManifest[]
    | undefined
  const first = chain?.[0]
  if (!first) throw new HansaError('HANSA_USAGE', `${o.nodeUrl} follows no federation`)
  const entry =
    o.version === undefined ? chain.at(-1)! : chain.find((s) => s.manifest.version === o.version)
  if (!entry) {
    throw new HansaError(
      'HANSA_USAGE',
      `${o.nodeUrl}'s chain has no version ${o.version} (its head is ${chain.at(-1)!.manifest.version})`,
    )
  }
  const m = entry.manifest
  const me = o.guardian.key.pubkey
  // The node's answer is not taken on trust: the chain must verify, and the guardian signs the
  // registry update only of a version that carries her own manifest signature — what she
  // reviewed and signed before (a node cannot make her anchor a manifest she never approved).
  const federationId = manifestHash(first.manifest)
  const verified = verifyChain(federationId, chain, { now: Math.floor(Date.now() / 1000) })
  if (!verified.ok) throw verified.error
  const mine = entry.signatures.find((s) => s.pubkey === me)
  if (mine === undefined || !verifyManifestSignature(m, mine)) {
    throw new HansaError(
      'HANSA_NOT_GUARDIAN',
      `version ${m.version} on ${o.nodeUrl} carries no manifest signature of yours (${me.slice(0, 12)}…): sign for the registry only what you signed`,
    )
  }
  const registry = await registryOf(o.nodeUrl, o.timeoutMs)
  if (registry === null) {
    throw new HansaError(
      'HANSA_USAGE',
      `${o.nodeUrl}'s terms name no FederationRegistry: sign through a node on the evm rail that names one`,
    )
  }
  const signing = await signForRegistry({
    nodeUrl: o.nodeUrl,
    urls: [o.nodeUrl, ...m.coordinators.flatMap((c) => c.nodes.map((n) => n.urls[0]!))],
    federationId,
    manifest: m,
    guardian: o.guardian,
    registry,
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
  })
  return { ...signing, version: m.version, hash: manifestHash(m) }
}
