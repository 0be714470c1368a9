// The client's side of the evm rail: a wallet on the same secp256k1 key as the user's Nostr
// identity, paying subscriptions through the node's PaymentRouter by transaction, and a
// chequebook of her own (deploy through the factory the node's terms name, deposit,
// withdraw, status) whose cheques pay metered use in SWAP's hard mode. viem and the contracts
// are loaded on first use, so importing @hansa/client stays cheap for everyone else.
import type { ChainClients } from '@hansa/contracts'
import { ethereumAddress } from '@hansa/protocol'
import type { Address, Hex } from 'viem'
import {
  type BillingApiOptions,
  type SubscriptionRequest,
  quoteSubscription,
} from './billing-api.js'
import { readChequebook } from './chequebook-read.js'
import { NodeRequestError, type SecretKeyOrSigner, callNode } from './node-request.js'

const hexKey = (k: Uint8Array): Hex =>
  `0x${Array.from(k, (b) => b.toString(16).padStart(2, '0')).join('')}`

type Lib = typeof import('@hansa/contracts') &
  Pick<typeof import('viem'), 'getAddress' | 'parseEventLogs'>
let libP: Promise<Lib> | undefined
const lib = (): Promise<Lib> => {
  libP ??= Promise.all([import('@hansa/contracts'), import('viem')]).then(([c, v]) => ({
    ...c,
    getAddress: v.getAddress,
    parseEventLogs: v.parseEventLogs,
  }))
  return libP
}

export type EvmWalletOptions = { rpcUrl: string; chainId: number; secretKey: Uint8Array }

/** What POST /subscriptions answers on an evm node. */
export type EvmPay = {
  rail: 'evm'
  chainId: number
  token: string
  router: string
  confirmations: number
  call: {
    node: string
    quote: Hex
    service: Hex
    periods: number
    pubkeys: Hex[]
    amount: string
  }
}

/** Pays a subscription quote on chain: this key's EvmWallet, or an injected wallet (evm-eip1193.ts). */
export type EvmPayer = {
  /** approve, then the router's pay; resolves with the pay transaction's hash once mined. */
  payQuote(pay: EvmPay): Promise<Hex>
  blockNumber(): Promise<bigint>
}

export class EvmWallet implements EvmPayer {
  /** EIP-55 address of the key (the same key as the Nostr identity). */
  readonly address: Address
  private clients_: ChainClients | undefined

  constructor(readonly options: EvmWalletOptions) {
    this.address = ethereumAddress(options.secretKey) as Address
  }

  /** viem clients on the wallet's chain, signing with its key. */
  async chainClients(): Promise<ChainClients> {
    const { clientsFor } = await lib()
    this.clients_ ??= clientsFor(
      this.options.rpcUrl,
      this.options.chainId,
      hexKey(this.options.secretKey),
    )
    return this.clients_
  }

  private async send(call: Record<string, unknown>): Promise<{ hash: Hex; logs: unknown[] }> {
    const { publicClient, walletClient } = await this.chainClients()
    const { request } = await publicClient.simulateContract({
      ...call,
      account: walletClient!.account,
    } as never)
    const hash = await walletClient!.writeContract(request as never)
    const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 60_000 })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return { hash, logs: receipt.logs }
  }

  async blockNumber(): Promise<bigint> {
    return (await this.chainClients()).publicClient.getBlockNumber({ cacheTime: 0 })
  }

  async ethBalance(): Promise<bigint> {
    return (await this.chainClients()).publicClient.getBalance({ address: this.address })
  }

  async tokenBalance(token: string, of: string = this.address): Promise<bigint> {
    const { HansaTestToken, getAddress } = await lib()
    return (await this.chainClients()).publicClient.readContract({
      address: getAddress(token),
      abi: HansaTestToken.abi,
      functionName: 'balanceOf',
      args: [getAddress(of)],
    })
  }

  /** Devnets only: mints test tokens (HansaTestToken lets anyone). */
  async faucet(token: string, amount: bigint): Promise<Hex> {
    const { HansaTestToken, getAddress } = await lib()
    return (
      await this.send({
        address: getAddress(token),
        abi: HansaTestToken.abi,
        functionName: 'mint',
        args: [this.address, amount],
      })
    ).hash
  }

  /**
   * Pays a quote through the router and returns the payment's tx hash: in one transaction with
   * an ERC-2612 permit when the token takes permits and the router has `payWithPermit`, else
   * approve, then pay. `permit: false` always approves.
   */
  async payQuote(pay: EvmPay, options: { permit?: boolean } = {}): Promise<Hex> {
    if (options.permit !== false) {
      const permitted = await this.payWithPermit(pay)
      if (permitted !== null) return permitted
    }
    const { HansaTestToken, PaymentRouter, getAddress } = await lib()
    const amount = BigInt(pay.call.amount)
    await this.send({
      address: getAddress(pay.token),
      abi: HansaTestToken.abi,
      functionName: 'approve',
      args: [getAddress(pay.router), amount],
    })
    return (
      await this.send({
        address: getAddress(pay.router),
        abi: PaymentRouter.abi,
        functionName: 'pay',
        args: [
          getAddress(pay.call.node),
          pay.call.quote,
          pay.call.service,
          pay.call.periods,
          pay.call.pubkeys,
          amount,
        ],
      })
    ).hash
  }

  /**
   * `payWithPermit`, or null when the token takes no permits (no EIP-5267 domain, no nonces)
   * or the router lacks the function: found out by reading and simulating, before anything is
   * sent, so falling back to approve never pays twice.
   */
  private async payWithPermit(pay: EvmPay): Promise<Hex | null> {
    const { HansaTestToken, PaymentRouter, getAddress } = await lib()
    const { publicClient, walletClient } = await this.chainClients()
    const token = getAddress(pay.token)
    const router = getAddress(pay.router)
    const amount = BigInt(pay.call.amount)
    let request: unknown
    try {
      const [[, name, version, chainId, verifyingContract], nonce, block] = await Promise.all([
        publicClient.readContract({
          address: token,
          abi: HansaTestToken.abi,
          functionName: 'eip712Domain',
        }),
        publicClient.readContract({
          address: token,
          abi: HansaTestToken.abi,
          functionName: 'nonces',
          args: [this.address],
        }),
        publicClient.getBlock(),
      ])
      const deadline = block.timestamp + 3600n
      const signature = await walletClient!.signTypedData({
        account: walletClient!.account!,
        domain: { name, version, chainId, verifyingContract },
        types: {
          Permit: [
            { name: 'owner', type: 'address' },
            { name: 'spender', type: 'address' },
            { name: 'value', type: 'uint256' },
            { name: 'nonce', type: 'uint256' },
            { name: 'deadline', type: 'uint256' },
          ],
        },
        primaryType: 'Permit',
        message: { owner: this.address, spender: router, value: amount, nonce, deadline },
      })
      const r = `0x${signature.slice(2, 66)}` as Hex
      const sPart = `0x${signature.slice(66, 130)}` as Hex
      const v = Number.parseInt(signature.slice(130, 132), 16)
      ;({ request } = await publicClient.simulateContract({
        account: walletClient!.account,
        address: router,
        abi: PaymentRouter.abi,
        functionName: 'payWithPermit',
        args: [
          getAddress(pay.call.node),
          pay.call.quote,
          pay.call.service,
          pay.call.periods,
          pay.call.pubkeys,
          amount,
          { deadline, v, r, s: sPart },
        ],
      }))
    } catch {
      return null
    }
    const hash = await walletClient!.writeContract(request as never)
    const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 60_000 })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return hash
  }

  /** Deploys a chequebook for this key through `factory`; returns its address. */
  async deployChequebook(factory: string, hardDepositTimeout = 86_400n): Promise<Address> {
    const { ChequebookFactory, getAddress, parseEventLogs } = await lib()
    const salt = `0x${Date.now().toString(16).padStart(64, '0')}` as Hex
    const { logs } = await this.send({
      address: getAddress(factory),
      abi: ChequebookFactory.abi,
      functionName: 'deployChequebook',
      args: [this.address, hardDepositTimeout, salt],
    })
    const [ev] = parseEventLogs({ abi: ChequebookFactory.abi, logs: logs as never })
    if (!ev) throw new Error('the factory deployed no chequebook')
    return getAddress(ev.args.chequebook)
  }

  async deposit(chequebook: string, token: string, amount: bigint): Promise<Hex> {
    const { HansaTestToken, getAddress } = await lib()
    return (
      await this.send({
        address: getAddress(token),
        abi: HansaTestToken.abi,
        functionName: 'transfer',
        args: [getAddress(chequebook), amount],
      })
    ).hash
  }

  async withdraw(chequebook: string, amount: bigint): Promise<Hex> {
    const { Chequebook, getAddress } = await lib()
    return (
      await this.send({
        address: getAddress(chequebook),
        abi: Chequebook.abi,
        functionName: 'withdraw',
        args: [amount],
      })
    ).hash
  }

  async increaseHardDeposit(chequebook: string, beneficiary: string, amount: bigint): Promise<Hex> {
    const { Chequebook, getAddress } = await lib()
    return (
      await this.send({
        address: getAddress(chequebook),
        abi: Chequebook.abi,
        functionName: 'increaseHardDeposit',
        args: [getAddress(beneficiary), amount],
      })
    ).hash
  }

  /** A chequebook's balance, what is not promised, what it paid out, and whether it bounced. */
  async chequebookStatus(chequebook: string, beneficiary?: string) {
    const { Chequebook, getAddress } = await lib()
    const { publicClient } = await this.chainClients()
    return readChequebook(
      publicClient,
      Chequebook.abi,
      getAddress(chequebook),
      beneficiary ? getAddress(beneficiary) : undefined,
    )
  }
}

/** POST /subscriptions/payments with any rail's proof. */
export function payQuoteWithProof<T = unknown>(
  nodeUrl: string,
  quoteId: string,
  proof: Record<string, unknown>,
  secretKey: SecretKeyOrSigner,
  options?: BillingApiOptions,
): Promise<T> {
  return callNode<T>(
    nodeUrl,
    '/subscriptions/payments',
    { method: 'POST', body: { quote: quoteId, proof }, secretKey },
    options ?? {},
  )
}

/**
 * Subscribes on an evm node: quote, pay through the router, then hand the node the tx hash,
 * again while it answers HANSA_PAYMENT_UNCONFIRMED (up to `waitMs`, one try per block).
 * The transactions come from `wallet` (an injected wallet: evm-eip1193.ts) or, given
 * `rpcUrl`, from an EvmWallet on the user's own secret key; `secretKey` (or a signer such as
 * NIP-07's) signs the node requests.
 */
export async function subscribeOnChain(
  nodeUrl: string,
  request: SubscriptionRequest,
  secretKey: SecretKeyOrSigner,
  options: BillingApiOptions & { rpcUrl?: string; wallet?: EvmPayer; waitMs?: number },
) {
  const { rpcUrl, wallet: given, waitMs = 120_000, ...api } = options
  const quote = await quoteSubscription(nodeUrl, request, secretKey, api)
  const pay = quote.pay as unknown as EvmPay
  if (pay.rail !== 'evm') {
    throw new Error(`this node's rail is ${pay.rail}, not evm; pay it with subscribeWith`)
  }
  let wallet = given
  if (wallet === undefined) {
    if (rpcUrl === undefined || !(secretKey instanceof Uint8Array)) {
      throw new Error('paying on chain needs a wallet, or the chain RPC URL and the secret key')
    }
    wallet = new EvmWallet({ rpcUrl, chainId: pay.chainId, secretKey })
  }
  const tx = await wallet.payQuote(pay)
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      const receipt = await payQuoteWithProof<{ subscription: unknown; payment: unknown }>(
        nodeUrl,
        quote.quote.id,
        { rail: 'evm', tx },
        secretKey,
        api,
      )
      return { ...receipt, tx, quote }
    } catch (error) {
      const waiting =
        error instanceof NodeRequestError && error.code === 'HANSA_PAYMENT_UNCONFIRMED'
      if (!waiting || Date.now() > deadline) throw error
      const block = await wallet.blockNumber()
      for (let i = 0; i < 600 && Date.now() < deadline; i++) {
        await new Promise((r) => setTimeout(r, 200))
        if ((await wallet.blockNumber()) > block) break
      }
    }
  }
}
