// One injected EIP-1193 wallet as the evm payers use it (evm-eip1193.ts, chequebook-eip1193.ts):
// viem clients over its `custom()` transport, her first account, and the checks a user can act
// on — the chain, the tokens, gas money — made before anything is sent; a request she rejects
// in the wallet becomes HANSA_EVM_REJECTED.
import { HansaError } from '@hansa/protocol'
import type { Address, Hex, PublicClient, TransactionReceipt, WalletClient } from 'viem'

/** The request function every EIP-1193 provider has. */
export type Eip1193Provider = {
  request(args: { method: string; params?: unknown }): Promise<unknown>
}

export class EvmWalletError extends HansaError {
  override name = 'EvmWalletError'
  constructor(
    code:
      | 'HANSA_EVM_NO_WALLET'
      | 'HANSA_EVM_WRONG_CHAIN'
      | 'HANSA_EVM_FUNDS'
      | 'HANSA_EVM_REJECTED',
    message: string,
    details: string,
  ) {
    super(code, message, { details })
  }
}

type Lib = typeof import('viem') &
  Pick<
    typeof import('@hansa/contracts'),
    'HansaTestToken' | 'PaymentRouter' | 'Chequebook' | 'ChequebookFactory'
  >

const lib = async (): Promise<Lib> => {
  const [viem, contracts] = await Promise.all([import('viem'), import('@hansa/contracts')])
  return {
    ...viem,
    HansaTestToken: contracts.HansaTestToken,
    PaymentRouter: contracts.PaymentRouter,
    Chequebook: contracts.Chequebook,
    ChequebookFactory: contracts.ChequebookFactory,
  }
}

/** EIP-1193's "user rejected the request" (code 4001), however deep viem wrapped it. */
export function isUserRejection(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; name?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 8;
    i++
  ) {
    if (e.code === 4001 || e.name === 'UserRejectedRequestError') return true
    e = e.cause as typeof e
  }
  return false
}

/**
 * One wallet, as the payers over it use it: viem clients on its transport, her first account,
 * and the checks a user can act on — the chain, the tokens, gas money — made before anything
 * is sent. `what` names the act in the messages ("pay", "deploy the chequebook").
 */
export async function walletSession(
  provider: Eip1193Provider | null | undefined,
): Promise<WalletSession> {
  if (!provider || typeof provider.request !== 'function') {
    throw new EvmWalletError(
      'HANSA_EVM_NO_WALLET',
      'no Ethereum wallet in this browser (window.ethereum)',
      'Install or unlock a wallet extension (EIP-1193), reload the page, and try again.',
    )
  }
  const v = await lib()
  const transport = v.custom(provider)
  const wallet = v.createWalletClient({ transport })
  const pub = v.createPublicClient({ transport, pollingInterval: 500 })
  // Asked at every act, not remembered: she may switch accounts in the wallet between two
  // (a connected wallet answers at once, without a prompt).
  const [account] = await wallet.requestAddresses().catch((error: unknown) => {
    if (isUserRejection(error)) {
      throw new EvmWalletError(
        'HANSA_EVM_REJECTED',
        'the wallet did not let this page see an account',
        'Allow this page in your wallet, then try again.',
      )
    }
    throw error
  })
  if (account === undefined) {
    throw new EvmWalletError(
      'HANSA_EVM_NO_WALLET',
      'the wallet gave no account',
      'Unlock the wallet and allow this page to see an account, then try again.',
    )
  }
  const tokenBalance = (token: Address): Promise<bigint> =>
    pub.readContract({
      address: token,
      abi: v.HansaTestToken.abi,
      functionName: 'balanceOf',
      args: [account],
    }) as Promise<bigint>
  return {
    v,
    wallet,
    pub,
    account,
    /** The wallet's chain, which must be `expected` (the node's terms). */
    async checkChain(expected: number, what: string): Promise<number> {
      const chainId = await pub.getChainId()
      if (chainId !== expected) {
        throw new EvmWalletError(
          'HANSA_EVM_WRONG_CHAIN',
          `the wallet is on chain ${chainId}; this node is paid on chain ${expected}`,
          `Switch the wallet to chain ${expected} and ${what} again.`,
        )
      }
      return chainId
    },
    tokenBalance,
    /** At least `amount` of `token` and some ether for gas, or what to do. */
    async checkFunds(token: Address, amount: bigint, what: string): Promise<void> {
      const [tokens, gas] = await Promise.all([
        tokenBalance(token),
        pub.getBalance({ address: account }),
      ])
      if (tokens < amount) {
        throw new EvmWalletError(
          'HANSA_EVM_FUNDS',
          `not enough tokens: ${account} holds ${tokens} of ${token}, and ${what} needs ${amount}`,
          'Add tokens to this account (on a devnet: hansa wallet --faucet), or choose a funded account in the wallet.',
        )
      }
      if (gas === 0n) {
        throw new EvmWalletError(
          'HANSA_EVM_FUNDS',
          `${account} has no ether for the transactions' gas`,
          `Add some ether to this account for gas, then ${what} again.`,
        )
      }
    },
    /** Sends one contract call from her account and waits until it is mined; its receipt. */
    async send(call: Record<string, unknown>, chainId: number, receiptTimeoutMs = 120_000) {
      const chain = v.defineChain({
        id: chainId,
        name: `chain ${chainId}`,
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: [] } },
      })
      let hash: Hex
      try {
        hash = await wallet.writeContract({ ...call, account, chain } as never)
      } catch (error) {
        if (isUserRejection(error)) {
          throw new EvmWalletError(
            'HANSA_EVM_REJECTED',
            `you rejected the transaction in your wallet (${String(call.functionName)})`,
            'Nothing was sent by this step; what was confirmed before it stands. Try again to go on.',
          )
        }
        throw error
      }
      const receipt = await pub.waitForTransactionReceipt({ hash, timeout: receiptTimeoutMs })
      if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
      return receipt
    },
  }
}

export type WalletSession = {
  v: Lib
  wallet: WalletClient
  pub: PublicClient
  account: Address
  checkChain(expected: number, what: string): Promise<number>
  tokenBalance(token: Address): Promise<bigint>
  checkFunds(token: Address, amount: bigint, what: string): Promise<void>
  send(
    call: Record<string, unknown>,
    chainId: number,
    receiptTimeoutMs?: number,
  ): Promise<TransactionReceipt>
}
