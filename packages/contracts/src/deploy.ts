// Deploying Hansa's contracts with viem, and the few chain calls tests and the devnet share.
// A deployment is: a token (the test token unless one is named), the PaymentRouter (token,
// dev fund), the ChequebookFactory (token, router) and the FederationRegistry.
import {
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  ChequebookFactory,
  FederationRegistry,
  HansaTestToken,
  PaymentRouter,
} from './artifacts.js'

export type HansaDeployment = {
  chainId: number
  token: Address
  router: Address
  chequebookFactory: Address
  registry: Address
  devFund: Address
}

/** A viem chain for an RPC URL and chain id (anvil or any other). */
export function chainFor(rpcUrl: string, chainId: number): Chain {
  return defineChain({
    id: chainId,
    name: `hansa-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
}

export type ChainClients = {
  chain: Chain
  publicClient: PublicClient<Transport, Chain>
  walletClient: WalletClient<Transport, Chain, Account> | undefined
  account: Account | undefined
}

export function clientsFor(rpcUrl: string, chainId: number, account?: Account | Hex): ChainClients {
  const chain = chainFor(rpcUrl, chainId)
  const transport = http(rpcUrl, { retryCount: 0, timeout: 10_000 })
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 })
  const acct =
    account === undefined
      ? undefined
      : typeof account === 'string'
        ? privateKeyToAccount(account)
        : account
  const walletClient = acct ? createWalletClient({ chain, transport, account: acct }) : undefined
  return { chain, publicClient, walletClient, account: acct }
}

/** anvil only: sets an address's ether balance (gas money for tests and the devnet). */
export async function setEthBalance(rpcUrl: string, address: Address, wei: bigint): Promise<void> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'anvil_setBalance',
      params: [address, `0x${wei.toString(16)}`],
    }),
  })
  const body = (await res.json()) as { error?: { message: string } }
  if (body.error) throw new Error(`anvil_setBalance: ${body.error.message}`)
}

/** anvil only: mines `blocks` empty blocks (to reach a number of confirmations). */
export async function mineBlocks(rpcUrl: string, blocks = 1): Promise<void> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: [blocks] }),
  })
  const body = (await res.json()) as { error?: { message: string } }
  if (body.error) throw new Error(`anvil_mine: ${body.error.message}`)
}

export type DeployOptions = {
  rpcUrl: string
  chainId: number
  /** The key that pays for the deployment (needs ether). */
  deployer: Hex
  devFund: Address
  /** An existing ERC-20 to use instead of deploying HansaTestToken. */
  token?: Address
  tokenDecimals?: number
}

/** Deploys the token (unless given), router, chequebook factory and registry, in order. */
export async function deployHansa(options: DeployOptions): Promise<HansaDeployment> {
  const { publicClient, walletClient } = clientsFor(
    options.rpcUrl,
    options.chainId,
    options.deployer,
  )
  const wallet = walletClient!
  const deploy = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new Error(`deployment ${hash} failed`)
    }
    return receipt.contractAddress
  }
  const token =
    options.token ??
    (await deploy(
      await wallet.deployContract({
        abi: HansaTestToken.abi,
        bytecode: HansaTestToken.bytecode,
        args: ['Hansa Test Token', 'HTT', options.tokenDecimals ?? 6],
      }),
    ))
  const router = await deploy(
    await wallet.deployContract({
      abi: PaymentRouter.abi,
      bytecode: PaymentRouter.bytecode,
      args: [token, options.devFund],
    }),
  )
  const chequebookFactory = await deploy(
    await wallet.deployContract({
      abi: ChequebookFactory.abi,
      bytecode: ChequebookFactory.bytecode,
      args: [token, router],
    }),
  )
  const registry = await deploy(
    await wallet.deployContract({
      abi: FederationRegistry.abi,
      bytecode: FederationRegistry.bytecode,
      args: [],
    }),
  )
  return {
    chainId: options.chainId,
    token,
    router,
    chequebookFactory,
    registry,
    devFund: options.devFund,
  }
}
