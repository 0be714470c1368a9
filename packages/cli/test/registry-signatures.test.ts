// Guardians sign the on-chain registry's update inside the proposal flow, each from her own key
// folder, through a node; a third party with no guardian key anchors with what the node
// gathered. On the devnet's chain (anvil): ana proposes version 2 through node-3 (which names
// the registry), so her registry signature goes with it; bo signs the manifest through node-1
// (which names none), so version 2 is adopted with one registry signature of the two needed —
// anchoring is refused HANSA_ANCHOR_SHORT and nothing is sent; bo then signs the registry's
// update (`hansa federation anchor-sign`) and the third party anchors version 2. The node checks
// every registry signature on receipt: by a guardian, hers, for its registry, of a manifest
// it holds.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeRequestError, getRegistrySignatures, postRegistrySignature } from '@hansa/client'
import { type Devnet, anchorFromNode, loadGuardian, startDevnet } from '@hansa/cli'
import {
  FederationRegistry,
  bytes32,
  clientsFor,
  registryUpdateOf,
  registryUpdateTypedData,
  setEthBalance,
} from '@hansa/contracts'
import { createKeyFile } from '@hansa/node'
import { manifestHash } from '@hansa/protocol'
import { generateSecretKey } from 'nostr-tools/pure'
import { type Address, type Hex, getAddress } from 'viem'
import { signTypedData } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, hansa, waitFor } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'hansa-registry-sigs-'))
const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`

describe('registry signatures in the proposal flow', () => {
  let devnet: Devnet
  let url: (name: string) => string
  let guardianDir: (name: string) => string
  let thirdParty: string
  let rpcUrl: string
  let registry: Address

  beforeAll(async () => {
    devnet = await startDevnet({
      dataDir: join(root, 'devnet'),
      syncIntervalSeconds: 1,
      chain: true,
    })
    url = (name) => devnet.info.nodes.find((n) => n.name === name)!.url
    guardianDir = (name) => devnet.info.guardians.find((g) => g.name === name)!.dir
    rpcUrl = devnet.info.chain!.rpcUrl
    registry = devnet.info.chain!.registry as Address
    // someone with gas money and no guardian key
    thirdParty = join(root, 'third-party.key')
    const key = createKeyFile(thirdParty)
    await setEthBalance(rpcUrl, getAddress(key.address), 10n ** 19n)
  }, 120_000)

  afterAll(async () => {
    await devnet?.stop()
    rmSync(root, { recursive: true, force: true })
  }, 30_000)

  const registryHead = async () => {
    const { publicClient } = clientsFor(rpcUrl, devnet.info.chain!.chainId)
    const [version, hash] = await publicClient.readContract({
      address: registry,
      abi: FederationRegistry.abi,
      functionName: 'head',
      args: [bytes32(devnet.info.federationId)],
    })
    return { version: Number(version), hash: (hash as string).slice(2) }
  }

  it('a proposal carries its proposer’s registry signature; one short, anchoring is refused', async () => {
    expect((await registryHead()).version).toBe(1)
    const proposed = await hansa([
      'federation',
      'propose',
      '--data-dir',
      guardianDir('ana'),
      '--node',
      url('node-3'),
      '--name',
      'Hansa devnet, anchored apart',
      '--json',
    ])
    expect(proposed.code).toBe(0)
    const p = JSON.parse(proposed.stdout) as {
      hash: string
      registry: { registry: string; posted: { url: string; ok: boolean; error?: string }[] }
    }
    expect(getAddress(p.registry.registry)).toBe(getAddress(registry))
    expect(p.registry.posted.find((x) => x.url === url('node-3'))).toMatchObject({ ok: true })
    // node-1 is free: it names no registry and says so
    expect(p.registry.posted.find((x) => x.url === url('node-1'))?.error).toMatch(
      /names no FederationRegistry/,
    )
    // bo signs the manifest through node-1, which names no registry: adopted, one registry signature
    const signed = await hansa([
      'federation',
      'sign',
      '--data-dir',
      guardianDir('bo'),
      '--node',
      url('node-1'),
      '--proposal',
      p.hash,
      '--yes',
      '--json',
    ])
    expect(signed.code).toBe(0)
    expect(JSON.parse(signed.stdout)).toMatchObject({ adopted: true, registry: { registry: null } })
    await waitFor(
      () => getJson(`${url('node-3').replace('ws', 'http')}/federation`),
      (s) => s.version === 2,
    )
    const gathered = await getRegistrySignatures(url('node-3'), p.hash)
    expect(gathered).toMatchObject({ version: 2, federationId: devnet.info.federationId })
    expect(gathered.signatures.map((s) => s.guardian)).toEqual([
      devnet.info.guardians.find((g) => g.name === 'ana')!.pubkey,
    ])

    const short = await hansa([
      'federation',
      'anchor',
      '--node',
      url('node-3'),
      '--rpc-url',
      rpcUrl,
      '--key',
      thirdParty,
    ])
    expect(short.code).toBe(1)
    expect(short.stderr).toContain(
      "version 2 has registry signatures by 1 of the 2 of its own guardians needed and 1 of the 2 of version 1's: nothing was sent",
    )
    expect(short.stderr).toMatch(
      /Still to sign, any of: (bo, cy|cy, bo) \(hansa federation anchor-sign --manifest-version 2\)/,
    )
    await expect(
      anchorFromNode({
        node: url('node-3'),
        rpcUrl,
        guardianKeys: [],
        payerKey: generateSecretKey(),
      }),
    ).rejects.toMatchObject({ code: 'HANSA_ANCHOR_SHORT' })
    expect((await registryHead()).version).toBe(1)
  })

  it('the second guardian signs the registry update apart; a third party anchors', async () => {
    const signed = await hansa([
      'federation',
      'anchor-sign',
      '--data-dir',
      guardianDir('bo'),
      '--node',
      url('node-3'),
      '--manifest-version',
      '2',
      '--json',
    ])
    expect(signed.code).toBe(0)
    expect(JSON.parse(signed.stdout)).toMatchObject({ version: 2 })
    const anchored = await hansa([
      'federation',
      'anchor',
      '--node',
      url('node-3'),
      '--rpc-url',
      rpcUrl,
      '--key',
      thirdParty,
      '--json',
    ])
    expect(anchored.code).toBe(0)
    expect(JSON.parse(anchored.stdout)).toMatchObject({
      before: 1,
      head: 2,
      anchored: [{ version: 2, signers: 2 }],
    })
    const chain = (await (
      await fetch(`${url('node-3').replace('ws', 'http')}/federation/chain`)
    ).json()) as {
      manifest: Parameters<typeof manifestHash>[0]
    }[]
    expect(await registryHead()).toEqual({ version: 2, hash: manifestHash(chain[1]!.manifest) })
  })

  it('the node checks each registry signature on receipt', async () => {
    const node = url('node-3')
    const chain = (await (
      await fetch(`${node.replace('ws', 'http')}/federation/chain`)
    ).json()) as {
      manifest: Parameters<typeof manifestHash>[0]
    }[]
    const m = chain[1]!.manifest
    const hash = manifestHash(m)
    const chainId = devnet.info.chain!.chainId
    const typed = registryUpdateTypedData(
      registryUpdateOf(devnet.info.federationId, hash, m),
      chainId,
      registry,
    )
    const cy = loadGuardian({ dataDir: guardianDir('cy') }).key.secretKey
    const ana = loadGuardian({ dataDir: guardianDir('ana') }).key.secretKey
    const stranger = generateSecretKey()
    const refusal = async (body: Record<string, unknown>, as: Uint8Array) => {
      try {
        await postRegistrySignature(node, body as Parameters<typeof postRegistrySignature>[1], as)
      } catch (e) {
        if (e instanceof NodeRequestError) return { code: e.code, status: e.status }
        throw e
      }
      return null
    }
    const good = await signTypedData({ privateKey: hex(cy), ...typed })
    const body = { hash, chainId, registry, signature: good }
    // not a guardian
    expect(
      await refusal(
        { ...body, signature: await signTypedData({ privateKey: hex(stranger), ...typed }) },
        stranger,
      ),
    ).toEqual({ code: 'HANSA_NOT_GUARDIAN', status: 403 })
    // a guardian posting another guardian's signature as hers
    expect(await refusal(body, ana)).toEqual({ code: 'HANSA_REGISTRY_SIGNATURE', status: 422 })
    // her signature of another digest (another registry) for this registry
    const elsewhere = registryUpdateTypedData(
      registryUpdateOf(devnet.info.federationId, hash, m),
      chainId,
      getAddress(`0x${'12'.repeat(20)}`),
    )
    expect(
      await refusal(
        { ...body, signature: await signTypedData({ privateKey: hex(cy), ...elsewhere }) },
        cy,
      ),
    ).toEqual({ code: 'HANSA_REGISTRY_SIGNATURE', status: 422 })
    // for a registry this node does not name
    expect(await refusal({ ...body, registry: `0x${'12'.repeat(20)}` }, cy)).toEqual({
      code: 'HANSA_REGISTRY_SIGNATURE',
      status: 422,
    })
    // of a manifest it does not hold, and malformed
    expect(await refusal({ ...body, hash: 'ab'.repeat(32) }, cy)).toEqual({
      code: 'HANSA_PROPOSAL_NOT_FOUND',
      status: 404,
    })
    expect(await refusal({ ...body, signature: '0x1234' }, cy)).toEqual({
      code: 'HANSA_REQUEST_INVALID',
      status: 400,
    })
    // hers, for its registry: kept
    expect(await refusal(body, cy)).toBeNull()
    // a node that names no registry gathers none
    const free = await (async () => {
      try {
        await postRegistrySignature(url('node-1'), body, cy)
        return null
      } catch (e) {
        return (e as NodeRequestError).code
      }
    })()
    expect(free).toBe('HANSA_REGISTRY_NONE')
    // and cy's own, for this registry, is kept
    const gathered = await getRegistrySignatures(node, hash)
    expect(gathered.signatures).toHaveLength(3)
  })
})
