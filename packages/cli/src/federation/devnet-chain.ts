// The devnet's chain: anvil (started here and stopped with the devnet; its state is kept in
// chain/state.json, so a second run resumes it), Hansa's contracts deployed once, gas money
// for every node key, test tokens for the devnet's users, and the sealed manifest anchored in
// the FederationRegistry by the guardians' signatures. node-2 then meters its inbox in hard
// mode and node-3 sells it by subscription, both on the evm rail.
//
//   chain/chain.json    the deployment (addresses, chain id) and the users
//   chain/state.json    anvil's state (written when anvil stops)
//   chain/deployer.key  the key that deployed and anchors (gas from anvil_setBalance)
//   users/NAME/user.key a devnet user with ether and test tokens
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type Anvil,
  FederationRegistry,
  type HansaDeployment,
  HansaTestToken,
  clientsFor,
  deployHansa,
  registryUpdateTypedData,
  setEthBalance,
  startAnvil,
} from '@hansa/contracts'
import { type KeyPair, createKeyFile, readKeyFile } from '@hansa/node'
import type { Manifest } from '@hansa/protocol'
import { registryUpdateFor } from './anchor.js'
import { type Address, type Hex, getAddress } from 'viem'
import { signTypedData } from 'viem/accounts'

export const DEVNET_CHAIN_ID = 31337
const ETHER = 10n ** 18n
/** Test tokens each devnet user starts with (6 decimals: 1,000 HTT). */
export const USER_TOKENS = 1_000_000_000n
const USERS = ['alice', 'bob'] as const

export type DevnetChainInfo = HansaDeployment & {
  rpcUrl: string
  users: { name: string; keyFile: string; pubkey: string; address: string }[]
  /** Registry anchoring: the manifest version anchored, and its transaction. */
  anchored: { version: number; tx: string } | null
}

const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`
const keyIn = (file: string): KeyPair =>
  existsSync(file) ? readKeyFile(file) : createKeyFile(file)

export type DevnetChain = {
  anvil: Anvil
  info: DevnetChainInfo
  /** The environment that puts a node on the evm rail. */
  nodeEnv(mode: 'free' | 'metered' | 'subscription', payout?: string): Record<string, string>
  anchor(federationId: string, manifest: Manifest, guardianKeys: Uint8Array[]): Promise<string>
  stop(): Promise<void>
}

export async function startDevnetChain(
  dataDir: string,
  fundAddresses: string[],
  progress: (line: string) => void,
): Promise<DevnetChain> {
  const dir = join(dataDir, 'chain')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const infoFile = join(dir, 'chain.json')
  const anvil = await startAnvil({ chainId: DEVNET_CHAIN_ID, statePath: join(dir, 'state.json') })
  progress(`anvil on ${anvil.rpcUrl} (chain ${anvil.chainId}; state in ${join(dir, 'state.json')})`)
  try {
    const deployer = keyIn(join(dir, 'deployer.key'))
    let info: DevnetChainInfo
    if (existsSync(infoFile)) {
      info = {
        ...(JSON.parse(readFileSync(infoFile, 'utf8')) as DevnetChainInfo),
        rpcUrl: anvil.rpcUrl,
      }
    } else {
      await setEthBalance(anvil.rpcUrl, getAddress(deployer.address), 1000n * ETHER)
      const devFund = keyIn(join(dir, 'dev-fund.key'))
      const deployment = await deployHansa({
        rpcUrl: anvil.rpcUrl,
        chainId: anvil.chainId,
        deployer: hex(deployer.secretKey),
        devFund: getAddress(devFund.address),
      })
      progress(`contracts deployed: token ${deployment.token}, router ${deployment.router}`)
      const { publicClient, walletClient } = clientsFor(
        anvil.rpcUrl,
        anvil.chainId,
        hex(deployer.secretKey),
      )
      const users = []
      for (const name of USERS) {
        const keyFile = join(dataDir, 'users', name, 'user.key')
        mkdirSync(join(dataDir, 'users', name), { recursive: true, mode: 0o700 })
        const key = keyIn(keyFile)
        await setEthBalance(anvil.rpcUrl, getAddress(key.address), 10n * ETHER)
        const hash = await walletClient!.writeContract({
          address: deployment.token,
          abi: HansaTestToken.abi,
          functionName: 'mint',
          args: [getAddress(key.address), USER_TOKENS],
        })
        await publicClient.waitForTransactionReceipt({ hash })
        users.push({ name, keyFile, pubkey: key.pubkey, address: getAddress(key.address) })
      }
      info = { ...deployment, rpcUrl: anvil.rpcUrl, users, anchored: null }
      writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`)
    }
    for (const address of fundAddresses) {
      await setEthBalance(anvil.rpcUrl, getAddress(address), 100n * ETHER)
    }
    const save = () => writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`)
    return {
      anvil,
      info,
      nodeEnv(mode, payout) {
        if (mode === 'free') return {}
        return {
          HANSA_BILLING_RAIL: 'evm',
          HANSA_BILLING_UNIT: 'uHTT',
          HANSA_BILLING_CHAIN_ID: String(anvil.chainId),
          HANSA_BILLING_DEV_FUND_RECIPIENT: info.devFund,
          HANSA_BILLING_EVM_RPC_URL: anvil.rpcUrl,
          HANSA_BILLING_EVM_TOKEN: info.token,
          HANSA_BILLING_EVM_ROUTER: info.router,
          HANSA_BILLING_EVM_CHEQUEBOOK_FACTORY: info.chequebookFactory,
          HANSA_BILLING_EVM_REGISTRY: info.registry,
          HANSA_BILLING_EVM_CASH_OUT_INTERVAL_SECONDS: '5',
          ...(payout ? { HANSA_BILLING_EVM_PAYOUT: payout } : {}),
          HANSA_INBOX_ACCESS: mode,
          // a cheque every few messages, so a person trying the devnet sees one cashed
          ...(mode === 'metered'
            ? { HANSA_BILLING_METERED_SWAP: 'hard', HANSA_BILLING_METERED_PAYMENT_THRESHOLD: '100' }
            : { HANSA_BILLING_SUBSCRIPTION_PRICE: '1000000' }),
        }
      },
      async anchor(federationId, manifest, guardianKeys) {
        const update = registryUpdateFor(federationId, manifest)
        const typed = registryUpdateTypedData(update, anvil.chainId, info.registry as Address)
        const signatures = await Promise.all(
          guardianKeys.map((k) => signTypedData({ privateKey: hex(k), ...typed })),
        )
        const { publicClient, walletClient } = clientsFor(
          anvil.rpcUrl,
          anvil.chainId,
          hex(deployer.secretKey),
        )
        const hash = await walletClient!.writeContract({
          address: info.registry as Address,
          abi: FederationRegistry.abi,
          functionName: 'anchor',
          args: [update, signatures],
        })
        const receipt = await publicClient.waitForTransactionReceipt({ hash })
        if (receipt.status !== 'success') throw new Error(`anchoring ${hash} reverted`)
        info.anchored = { version: manifest.version, tx: hash }
        save()
        return hash
      },
      stop: () => anvil.stop(),
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
