// Paying on the evm rail with an injected EIP-1193 wallet (a browser extension's
// `window.ethereum`), through viem's `custom()` transport: the wallet holds the key and signs
// the approve and the router's pay, so the user's Nostr key never meets the chain. The
// subscription covers the Nostr pubkey in the quote, whatever address pays (PaymentRouter.pay
// names the pubkeys). Before sending anything it checks what a user can fix herself — the
// wallet's chain, her token balance, gas money — and says what to do (EvmWalletError).
import { HansaError } from '@hansa/protocol'
import type { Address, Hex } from 'viem'
import type { EvmPay, EvmPayer } from './evm-wallet.js'

/** The request function every EIP-1193 provider has. */
export type Eip1193Provider = {
  request(args: { method: string; params?: unknown }): Promise<unknown>
}

export class EvmWalletError extends HansaError {
  override name = 'EvmWalletError'
  constructor(
    code: 'HANSA_EVM_NO_WALLET' | 'HANSA_EVM_WRONG_CHAIN' | 'HANSA_EVM_FUNDS',
    message: string,
    details: string,
  ) {
    super(code, message, { details })
  }
}

const lib = async () => {
  const [viem, contracts] = await Promise.all([import('viem'), import('@hansa/contracts')])
  return {
    ...viem,
    HansaTestToken: contracts.HansaTestToken,
    PaymentRouter: contracts.PaymentRouter,
  }
}

/** An evm payer over an injected wallet; `null` provider (no wallet) fails with what to do. */
export function eip1193Payer(
  provider: Eip1193Provider | null | undefined,
  options: { receiptTimeoutMs?: number } = {},
): EvmPayer {
  let account: Address | undefined
  const clients = async () => {
    if (!provider || typeof provider.request !== 'function') {
      throw new EvmWalletError(
        'HANSA_EVM_NO_WALLET',
        'no Ethereum wallet in this browser (window.ethereum)',
        'Install or unlock a wallet extension (EIP-1193), reload the page, and pay again.',
      )
    }
    const v = await lib()
    const transport = v.custom(provider)
    const wallet = v.createWalletClient({ transport })
    const pub = v.createPublicClient({ transport, pollingInterval: 500 })
    if (account === undefined) {
      const [first] = await wallet.requestAddresses()
      if (first === undefined) {
        throw new EvmWalletError(
          'HANSA_EVM_NO_WALLET',
          'the wallet gave no account',
          'Unlock the wallet and allow this page to see an account, then pay again.',
        )
      }
      account = first
    }
    return { v, wallet, pub, account }
  }
  return {
    async payQuote(pay: EvmPay): Promise<Hex> {
      const { v, wallet, pub, account } = await clients()
      const chainId = await pub.getChainId()
      if (chainId !== pay.chainId) {
        throw new EvmWalletError(
          'HANSA_EVM_WRONG_CHAIN',
          `the wallet is on chain ${chainId}; this node is paid on chain ${pay.chainId}`,
          `Switch the wallet to chain ${pay.chainId} and pay again.`,
        )
      }
      const amount = BigInt(pay.call.amount)
      const token = v.getAddress(pay.token)
      const router = v.getAddress(pay.router)
      const [tokens, gas] = await Promise.all([
        pub.readContract({
          address: token,
          abi: v.HansaTestToken.abi,
          functionName: 'balanceOf',
          args: [account],
        }) as Promise<bigint>,
        pub.getBalance({ address: account }),
      ])
      if (tokens < amount) {
        throw new EvmWalletError(
          'HANSA_EVM_FUNDS',
          `not enough tokens: ${account} holds ${tokens} of ${token}, the payment is ${amount}`,
          'Add tokens to this account (on a devnet: hansa wallet faucet), or pay from another account.',
        )
      }
      if (gas === 0n) {
        throw new EvmWalletError(
          'HANSA_EVM_FUNDS',
          `${account} has no ether for the transactions' gas`,
          'Add some ether to this account for gas, then pay again.',
        )
      }
      const chain = v.defineChain({
        id: chainId,
        name: `chain ${chainId}`,
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: [] } },
      })
      const send = async (call: Record<string, unknown>) => {
        const hash = await wallet.writeContract({ ...call, account, chain } as never)
        const receipt = await pub.waitForTransactionReceipt({
          hash,
          timeout: options.receiptTimeoutMs ?? 120_000,
        })
        if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
        return hash
      }
      await send({
        address: token,
        abi: v.HansaTestToken.abi,
        functionName: 'approve',
        args: [router, amount],
      })
      return send({
        address: router,
        abi: v.PaymentRouter.abi,
        functionName: 'pay',
        args: [
          v.getAddress(pay.call.node),
          pay.call.quote,
          pay.call.service,
          pay.call.periods,
          pay.call.pubkeys,
          amount,
        ],
      })
    },
    async blockNumber(): Promise<bigint> {
      return (await clients()).pub.getBlockNumber({ cacheTime: 0 })
    },
  }
}
