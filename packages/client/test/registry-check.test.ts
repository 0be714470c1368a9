// The client against the on-chain FederationRegistry on a real anvil: a node the registry
// lists passes, one it does not is flagged (and rejected, with the reason, when the registry
// is required); the anchored head is compared with the client's: anchored, behind, mismatch.
import { type NodeReport, checkRegistry, registryState } from '@hansa/client'
import {
  type Anvil,
  FederationRegistry,
  type HansaDeployment,
  bytes32,
  clientsFor,
  deployHansa,
  registryUpdateTypedData,
  setEthBalance,
  startAnvil,
} from '@hansa/contracts'
import { ethereumAddress, generateSecretKey, nostrPublicKey } from '@hansa/protocol'
import { type Address, type Hex, getAddress } from 'viem'
import { signTypedData } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`
let anvil: Anvil
let dep: HansaDeployment
const deployer = generateSecretKey()
const guardians = [generateSecretKey(), generateSecretKey()]
const fedId = 'ab'.repeat(32)
const listedNode = nostrPublicKey(generateSecretKey())
const strangerNode = nostrPublicKey(generateSecretKey())

const report = (pubkey: string): NodeReport => ({
  url: `ws://127.0.0.1/${pubkey.slice(0, 6)}`,
  pubkey,
  sources: ['manifest'],
  status: 'trusted',
  reason: null,
  coordinator: { pubkey: 'c'.repeat(64), alias: 'hanseatic' },
  services: ['inbox'],
  terms: null,
  rttMs: 5,
  checkedAt: 0,
})

beforeAll(async () => {
  anvil = await startAnvil()
  await setEthBalance(anvil.rpcUrl, getAddress(ethereumAddress(deployer)), 10n ** 20n)
  dep = await deployHansa({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    deployer: hex(deployer),
    devFund: getAddress(ethereumAddress(generateSecretKey())),
  })
  const update = {
    federationId: bytes32(fedId),
    version: 1n,
    manifestHash: bytes32(fedId),
    guardians: guardians.map((g) => bytes32(nostrPublicKey(g))),
    threshold: 2,
    nodes: [bytes32(listedNode)],
    services: ['inbox'],
  }
  const typed = registryUpdateTypedData(update, anvil.chainId, dep.registry)
  const signatures = await Promise.all(
    guardians.map((g) => signTypedData({ privateKey: hex(g), ...typed })),
  )
  const { publicClient, walletClient } = clientsFor(anvil.rpcUrl, anvil.chainId, hex(deployer))
  const hash = await walletClient!.writeContract({
    address: dep.registry as Address,
    abi: FederationRegistry.abi,
    functionName: 'anchor',
    args: [update, signatures],
  })
  expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success')
})

afterAll(async () => {
  await anvil?.stop()
})

describe('checkRegistry', () => {
  const options = () => ({ rpcUrl: anvil.rpcUrl, address: dep.registry, chainId: anvil.chainId })

  it('flags a node the registry does not list, and keeps it when the registry is not required', async () => {
    const reports = [report(listedNode), report(strangerNode)]
    const r = await checkRegistry(options(), fedId, { version: 1, hash: fedId }, reports)
    expect(r).toMatchObject({
      state: 'anchored',
      anchored: { version: 1, hash: fedId },
      listed: { [listedNode]: true, [strangerNode]: false },
    })
    expect(reports.map((x) => x.status)).toEqual(['trusted', 'trusted'])
  })

  it('rejects it, saying why, when the registry is required', async () => {
    const reports = [report(listedNode), report(strangerNode)]
    const r = await checkRegistry(
      { ...options(), required: true },
      fedId,
      { version: 2, hash: 'cd'.repeat(32) },
      reports,
    )
    expect(r?.state).toBe('behind')
    expect(reports[0]!.status).toBe('trusted')
    expect(reports[1]).toMatchObject({ status: 'rejected', services: [] })
    expect(reports[1]!.reason).toMatch(
      /^not listed in the on-chain registry 0x[0-9a-fA-F]{40} for this federation \(registry behind at version 1\)$/,
    )
  })

  it('compares heads', () => {
    expect(registryState(null, { version: 1, hash: 'a' })).toBe('unanchored')
    expect(registryState({ version: 1, hash: 'a' }, { version: 1, hash: 'b' })).toBe('mismatch')
    expect(registryState({ version: 3, hash: 'a' }, { version: 2, hash: 'b' })).toBe('ahead')
    expect(registryState({ version: 2, hash: 'b' }, { version: 2, hash: 'b' })).toBe('anchored')
  })
})
