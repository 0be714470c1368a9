// The evm rail: real money on an EVM chain (anvil in tests and the devnet).
//  - Subscriptions are paid by transaction through the PaymentRouter, which splits the dev
//    tax on chain; the transaction hash is the proof (`{rail: "evm", tx}`).
//    `verifySubscriptionPayment` (the rail interface's) reads the receipt
//    and the router's `Paid` event and refuses, each with its own code, a payment that is not
//    confirmed, reverted, not through the router, for another node, quote or amount.
//  - Metered services in hard mode take cheques only from chequebooks the factory deployed
//    (`chequeIssuer`; factory and issuer are read once per chequebook, they never change),
//    that have not bounced and whose balance and hard deposit for this node cover everything
//    uncashed (`checkCover`: one round of reads per cheque); CashOuts cashes what is credited.
//  - At start the node sets its payout address and dev-tax rate on the router (one
//    transaction, only when they differ), so payers and chequebooks split at the rate the
//    terms state.
// Every chain call goes through `onChain`: an RPC that does not answer is a 503 and credits
// nothing. Whether a transaction was already used is checked by billing, in the transaction
// that credits it.
import { join } from 'node:path'
import type { ChainClients } from '@hansa/contracts'
import type { EvmSettlement, SignedCheque } from '@hansa/protocol'
import type { Logger } from 'pino'
import type { Address, Hex } from 'viem'
import type { CashOutEvents, CashOuts } from './evm-cashouts.js'
import { type EvmAddresses, evmAddresses, getAddress, isUnreachable, onChain } from './evm-chain.js'
import { BillingRequestError } from '../errors.js'
import { evmRefusal } from './evm-errors.js'
import type { EvmConfig } from './evm-options.js'
import type {
  ExpectedPayment,
  IssuerAnswer,
  SettleOutcome,
  SettlementRail,
  VerifiedPayment,
} from './rail.js'

export type EvmRailOptions = {
  evm: EvmConfig
  chainId: number
  key: { secretKey: Uint8Array; address: string }
  rateBps: number
  /** Whether a metered service runs SWAP's hard mode (cheques are cashed). */
  hard: boolean
  dataDir: string
  log: Logger
  now: () => number
}

export type ChainPayment = {
  tx: string
  payer: string
  amount: bigint
  devTax: bigint
  block: bigint
}

/** The router's bytes32 forms of a quote id (hex), a service name and a pubkey. */
export const quoteWord = (id: string): Hex => `0x${id.padStart(64, '0')}`
export const serviceWord = (service: string): Hex =>
  `0x${Buffer.from(service, 'utf8').toString('hex').padEnd(64, '0').slice(0, 64)}`
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
type EvmLib = typeof import('./evm-lib.js')
export const pubkeyWord = (pubkey: string): Hex => `0x${pubkey}`

const TX_HASH = /^0x[0-9a-fA-F]{64}$/

export class EvmRail implements SettlementRail {
  readonly name = 'evm' as const
  readonly subscriptionPayment = 'proof' as const
  readonly addresses: EvmAddresses
  private lib_: EvmLib | undefined
  private clients_: ChainClients | undefined
  private readonly node: Address
  private cashOuts: CashOuts | undefined
  private events: CashOutEvents | undefined
  private timer: NodeJS.Timeout | undefined
  private routerReady = false
  private readonly issuers = new Map<Address, Address>()

  constructor(private readonly o: EvmRailOptions) {
    this.addresses = evmAddresses(o.evm, o.key.address)
    this.node = getAddress(o.key.address)
  }

  /** viem and the contracts, loaded by start(). */
  private get lib(): EvmLib {
    if (!this.lib_) throw new Error('the evm rail is not started')
    return this.lib_
  }

  get clients(): ChainClients {
    if (!this.clients_) throw new Error('the evm rail is not started')
    return this.clients_
  }

  /** What the terms say about this rail. */
  settlementTerms(): EvmSettlement {
    return {
      token: this.addresses.token,
      router: this.addresses.router,
      chequebookFactory: this.o.hard ? this.addresses.chequebookFactory : null,
      registry: this.addresses.registry,
      confirmations: this.o.evm.confirmations,
    }
  }

  /** Billing hands in what a cash-out means for the books (before `start`). */
  setCashOutEvents(events: CashOutEvents): void {
    this.events = events
  }

  async start(): Promise<void> {
    this.lib_ = await import('./evm-lib.js')
    this.clients_ = this.lib_.nodeClients(this.o.evm.rpcUrl, this.o.chainId, this.o.key.secretKey)
    if (this.o.hard) {
      this.cashOuts = new this.lib_.CashOuts({
        path: join(this.o.dataDir, 'settlement.sqlite'),
        clients: this.clients,
        node: this.node,
        payout: this.addresses.payout,
        gasMultiple: this.o.evm.cashOutGasMultiple,
        unitsPerEth: BigInt(this.o.evm.unitsPerEth),
        log: this.o.log,
        now: this.o.now,
        events: this.events ?? { onCashed: () => {}, onShortfall: () => {} },
      })
    }
    await this.tick()
    this.timer = setInterval(() => void this.tick(), this.o.evm.cashOutIntervalSeconds * 1000)
    this.timer.unref()
  }

  /** Sets router terms if still needed, and looks at cash-outs (resumes, retries). */
  async tick(): Promise<void> {
    if (!this.routerReady) {
      try {
        await this.ensureRouterTerms()
        this.routerReady = true
      } catch (err) {
        this.o.log.error(
          { err: err instanceof Error ? err.message.split('\n')[0] : err },
          'settlement: could not set payout and dev-tax rate on the PaymentRouter; subscriptions cannot be paid until it is set (retried)',
        )
      }
    }
    await this.cashOuts?.kick()
  }

  private async ensureRouterTerms(): Promise<void> {
    const { publicClient, walletClient } = this.clients
    const [payout, bps] = await publicClient.readContract({
      address: this.addresses.router,
      abi: this.lib.PaymentRouter.abi,
      functionName: 'termsOf',
      args: [this.node],
    })
    if (same(payout, this.addresses.payout) && bps === this.o.rateBps) {
      // set before, or (payout = node, 0 %) by default: only an explicit setting counts
      const logs = await publicClient.getContractEvents({
        address: this.addresses.router,
        abi: this.lib.PaymentRouter.abi,
        eventName: 'NodeTermsSet',
        args: { node: this.node },
        fromBlock: 0n,
      })
      if (logs.length > 0) return
    }
    const hash = await walletClient!.writeContract({
      address: this.addresses.router,
      abi: this.lib.PaymentRouter.abi,
      functionName: 'setNodeTerms',
      args: [this.addresses.payout, this.o.rateBps],
      chain: null,
    })
    const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 60_000 })
    if (receipt.status !== 'success') throw new Error(`setNodeTerms ${hash} reverted`)
    this.o.log.info(
      { payout: this.addresses.payout, devTaxBps: this.o.rateBps, tx: hash },
      'settlement: payout and dev-tax rate set on the PaymentRouter',
    )
  }

  private read<T>(address: Address, abi: unknown, functionName: string, args: unknown[] = []) {
    return onChain(this.o.evm.rpcUrl, () =>
      this.clients.publicClient.readContract({ address, abi, functionName, args } as never),
    ) as Promise<T>
  }

  async chequeIssuer(chequebook: string): Promise<IssuerAnswer> {
    const factory = this.addresses.chequebookFactory
    if (!this.o.hard || factory === null) {
      return {
        refused:
          'this node takes no cheques on the evm rail (no metered service in hard mode); pay subscriptions by transaction',
        code: 'HANSA_CHEQUE_CHEQUEBOOK',
      }
    }
    const address = getAddress(chequebook)
    // A chequebook's factory and issuer never change: read once. Whether it bounced is read
    // every time (and its balance, in checkCover).
    let issuer: Address | null | undefined = this.issuers.get(address)
    if (issuer === undefined) {
      const [deployed, onChainIssuer] = await Promise.all([
        this.read<boolean>(factory, this.lib.ChequebookFactory.abi, 'deployed', [address]),
        this.read<Address>(address, this.lib.Chequebook.abi, 'issuer').catch((error) => {
          if (error instanceof BillingRequestError) throw error // the RPC is down
          return null // no chequebook there
        }),
      ])
      issuer = deployed && onChainIssuer ? onChainIssuer : null
      if (issuer !== null) {
        if (this.issuers.size >= 100_000) this.issuers.clear()
        this.issuers.set(address, issuer)
      }
    }
    if (issuer === null) {
      return {
        refused: `${address} is not a chequebook deployed by the factory ${factory} this node's terms name; deploy one with hansa chequebook deploy`,
        code: 'HANSA_CHEQUE_CHEQUEBOOK',
      }
    }
    return { issuer }
  }

  /** Hard mode: refuses a cheque its chequebook cannot cover now. */
  async checkCover(chequebook: string, cumulativePayout: bigint): Promise<void> {
    const address = getAddress(chequebook)
    const [paidOut, available, bounced] = await Promise.all([
      this.read<bigint>(address, this.lib.Chequebook.abi, 'paidOut', [this.node]),
      this.read<bigint>(address, this.lib.Chequebook.abi, 'liquidBalanceFor', [this.node]),
      this.read<boolean>(address, this.lib.Chequebook.abi, 'bounced'),
    ])
    if (bounced) {
      throw evmRefusal(
        'HANSA_CHEQUE_BOUNCED',
        `chequebook ${address} bounced a cheque; this node takes no more cheques from it`,
      )
    }
    const uncashed = cumulativePayout > paidOut ? cumulativePayout - paidOut : 0n
    if (uncashed > available) {
      throw evmRefusal(
        'HANSA_CHEQUE_UNCOVERED',
        `chequebook ${address} holds ${available} for this node (balance not promised to others plus its hard deposit); the cheque would leave ${uncashed} uncashed — deposit ${uncashed - available} more`,
      )
    }
  }

  async settle(cheque: SignedCheque, _rise: bigint): Promise<SettleOutcome> {
    if (!this.cashOuts) return { status: 'kept' }
    this.cashOuts.enqueue(cheque)
    return { status: 'queued' }
  }

  /** The proof `{rail: "evm", tx}`: a PaymentRouter transaction (see the header). */
  async verifySubscriptionPayment(
    expected: ExpectedPayment,
    proof: unknown,
  ): Promise<VerifiedPayment> {
    const payment = await this.verifyTransaction((proof as { tx?: unknown } | null)?.tx, expected)
    return {
      reference: payment.tx,
      payer: payment.payer,
      amount: payment.amount,
      devTaxPaid: payment.devTax,
    }
  }

  /** The transaction hash a proof names (lower case), so a reuse is refused before any read. */
  proofReference(proof: unknown): string | null {
    const tx = (proof as { tx?: unknown } | null)?.tx
    return typeof tx === 'string' && TX_HASH.test(tx) ? tx.toLowerCase() : null
  }

  /** Checks a subscription payment by transaction hash (see the header for the order). */
  async verifyTransaction(tx: unknown, expected: ExpectedPayment): Promise<ChainPayment> {
    if (typeof tx !== 'string' || !TX_HASH.test(tx)) {
      throw evmRefusal(
        'HANSA_PAYMENT_TX_MALFORMED',
        'proof.tx must be a transaction hash (0x and 64 hex digits)',
      )
    }
    const hash = tx.toLowerCase() as Hex
    const { publicClient } = this.clients
    const rpc = this.o.evm.rpcUrl
    const receipt = await onChain(rpc, () =>
      publicClient.getTransactionReceipt({ hash }).catch((e) => {
        if (isUnreachable(e)) throw e
        return null
      }),
    )
    if (!receipt) {
      const pending = await onChain(rpc, () =>
        publicClient.getTransaction({ hash }).catch((e) => {
          if (isUnreachable(e)) throw e
          return null
        }),
      )
      if (pending) {
        throw evmRefusal(
          'HANSA_PAYMENT_UNCONFIRMED',
          `transaction ${hash} is not mined yet; send the proof again once it is`,
        )
      }
      throw evmRefusal(
        'HANSA_PAYMENT_TX_UNKNOWN',
        `chain ${this.o.chainId} knows no transaction ${hash}`,
      )
    }
    const head = await onChain(rpc, () => publicClient.getBlockNumber({ cacheTime: 0 }))
    const confirmations = head - receipt.blockNumber + 1n
    if (receipt.status !== 'success') {
      throw evmRefusal('HANSA_PAYMENT_REVERTED', `transaction ${hash} reverted: nothing was paid`)
    }
    if (confirmations < BigInt(this.o.evm.confirmations)) {
      throw evmRefusal(
        'HANSA_PAYMENT_UNCONFIRMED',
        `transaction ${hash} has ${confirmations} confirmation(s); this node needs ${this.o.evm.confirmations} — send the proof again in ${BigInt(this.o.evm.confirmations) - confirmations} block(s)`,
      )
    }
    const paid = this.lib
      .parseEventLogs({
        abi: this.lib.PaymentRouter.abi,
        logs: receipt.logs,
        eventName: 'Paid',
      })
      .filter((l) => same(l.address, this.addresses.router))
    if (paid.length !== 1) {
      throw evmRefusal(
        'HANSA_PAYMENT_CONTRACT',
        `transaction ${hash} is not one payment through this node's PaymentRouter ${this.addresses.router}`,
      )
    }
    const ev = paid[0]!.args
    if (!same(ev.node, this.node)) {
      throw evmRefusal(
        'HANSA_PAYMENT_NODE',
        `transaction ${hash} pays node ${ev.node}, not this node (${this.node})`,
      )
    }
    const wanted = expected.pubkeys.map(pubkeyWord).sort()
    const got = [...ev.pubkeys].map((p) => p.toLowerCase()).sort()
    if (
      ev.quote.toLowerCase() !== quoteWord(expected.quote) ||
      ev.service.toLowerCase() !== serviceWord(expected.service).toLowerCase() ||
      ev.periods !== expected.periods ||
      got.length !== wanted.length ||
      got.some((p, i) => p !== wanted[i])
    ) {
      throw evmRefusal(
        'HANSA_PAYMENT_QUOTE',
        `transaction ${hash} pays for another quote, service, number of periods or set of pubkeys than quote ${expected.quote} (${expected.service}, ${expected.periods} period(s), ${expected.pubkeys.length} pubkey(s))`,
      )
    }
    if (ev.amount !== expected.amount) {
      throw evmRefusal(
        'HANSA_PAYMENT_AMOUNT',
        `transaction ${hash} pays ${ev.amount}; the quote asks for exactly ${expected.amount}`,
      )
    }
    return {
      tx: hash,
      payer: ev.payer,
      amount: ev.amount,
      devTax: ev.devTax,
      block: receipt.blockNumber,
    }
  }

  /** Cash-outs for GET /billing (hard mode), or null. */
  report() {
    return this.cashOuts?.report() ?? null
  }

  /** Waits for the cash-out pass in progress (tests, bench). */
  async idle(): Promise<void> {
    await this.cashOuts?.idle()
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.cashOuts?.close()
  }
}
