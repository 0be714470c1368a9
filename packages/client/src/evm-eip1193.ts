// Paying on the evm rail with an injected EIP-1193 wallet (a browser extension's
// `window.ethereum`), through viem's `custom()` transport: the wallet holds the key and signs
// the approve and the router's pay, so the user's Nostr key never meets the chain. The
// subscription covers the Nostr pubkey in the quote, whatever address pays (PaymentRouter.pay
// names the pubkeys). Before sending anything it checks what a user can fix herself — the
// wallet's chain, her token balance, gas money — and says what to do (EvmWalletError).
import type { Hex } from 'viem'
import type { EvmPay, EvmPayer } from './evm-wallet.js'
import { type Eip1193Provider, walletSession } from './wallet-session.js'

export { type Eip1193Provider, EvmWalletError } from './wallet-session.js'

/** An evm payer over an injected wallet; `null` provider (no wallet) fails with what to do. */
export function eip1193Payer(
  provider: Eip1193Provider | null | undefined,
  options: { receiptTimeoutMs?: number } = {},
): EvmPayer {
  return {
    async payQuote(pay: EvmPay): Promise<Hex> {
      const w = await walletSession(provider)
      const chainId = await w.checkChain(pay.chainId, 'pay')
      const amount = BigInt(pay.call.amount)
      const token = w.v.getAddress(pay.token)
      const router = w.v.getAddress(pay.router)
      await w.checkFunds(token, amount, 'the payment')
      await w.send(
        {
          address: token,
          abi: w.v.HansaTestToken.abi,
          functionName: 'approve',
          args: [router, amount],
        },
        chainId,
        options.receiptTimeoutMs,
      )
      const receipt = await w.send(
        {
          address: router,
          abi: w.v.PaymentRouter.abi,
          functionName: 'pay',
          args: [
            w.v.getAddress(pay.call.node),
            pay.call.quote,
            pay.call.service,
            pay.call.periods,
            pay.call.pubkeys,
            amount,
          ],
        },
        chainId,
        options.receiptTimeoutMs,
      )
      return receipt.transactionHash
    },
    async blockNumber(): Promise<bigint> {
      return (await walletSession(provider)).pub.getBlockNumber({ cacheTime: 0 })
    },
  }
}
