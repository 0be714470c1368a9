// The evm rail on a real anvil: subscriptions paid by transaction through the PaymentRouter
// (pay → whitelisted; a wrong amount, a wrong node, a reused, an unconfirmed and a reverted
// transaction each refused with its own code; the RPC down is a 503 that credits nothing),
// and SWAP's hard mode (cheques only from real, covered chequebooks; cashed on chain with the
// dev fund's share; a cheque that bounces after a restart turns back into debt and the peer
// is refused). The node's books are compared with the chain's events.
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  EvmWallet,
  NodeRequestError,
  SwapPayer,
  getAccount,
  getBilling,
  getTerms,
  memoryPayerStorage,
  payQuoteWithProof,
  quoteSubscription,
  sendCheque,
  subscribeOnChain,
} from '@hansa/client'
import {
  type Anvil,
  Chequebook,
  type HansaDeployment,
  HansaTestToken,
  PaymentRouter,
  deployHansa,
  mineBlocks,
  setEthBalance,
  startAnvil,
} from '@hansa/contracts'
import { type KeyPair, createKeyFile } from '@hansa/node'
import { ethereumAddress, signCheque } from '@hansa/protocol'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import * as nip17 from 'nostr-tools/nip17'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { type Address, type Hex, getAddress } from 'viem'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestNode, removeDir, startTestNode } from './helpers.js'

useWebSocketImplementation(WebSocket)

let anvil: Anvil
let dep: HansaDeployment
const devFund = getAddress(ethereumAddress(generateSecretKey()))
const dirs: string[] = []
const nodes: TestNode[] = []

const fund = async (sk: Uint8Array, tokens = 0n) => {
  const address = getAddress(ethereumAddress(sk))
  await setEthBalance(anvil.rpcUrl, address, 10n ** 20n)
  if (tokens > 0n)
    await new EvmWallet({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, secretKey: sk }).faucet(
      dep.token,
      tokens,
    )
  return address
}

/** A data folder with a node key whose address holds gas money. */
async function nodeDir(): Promise<{ dir: string; key: KeyPair }> {
  const dir = mkdtempSync(join(tmpdir(), 'hansa-evm-'))
  dirs.push(dir)
  mkdirSync(dir, { recursive: true })
  const key = createKeyFile(join(dir, 'node.key'))
  await fund(key.secretKey)
  return { dir, key }
}

const evmFlags = (extra: Record<string, unknown> = {}) => ({
  'billing.rail': 'evm',
  'billing.unit': 'HTT',
  'billing.chainId': anvil.chainId,
  'billing.evm.rpcUrl': anvil.rpcUrl,
  'billing.evm.token': dep.token,
  'billing.evm.router': dep.router,
  'billing.evm.chequebookFactory': dep.chequebookFactory,
  'billing.evm.registry': dep.registry,
  ...extra,
})

const tokenBalance = (address: string) =>
  new EvmWallet({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    secretKey: generateSecretKey(),
  }).tokenBalance(dep.token, address)

async function refusal(
  p: Promise<unknown>,
): Promise<{ code: string; status: number; message: string }> {
  try {
    await p
  } catch (e) {
    if (e instanceof NodeRequestError) return { code: e.code, status: e.status, message: e.message }
    throw e
  }
  throw new Error('expected a refusal')
}

beforeAll(async () => {
  anvil = await startAnvil()
  const deployer = generateSecretKey()
  await fund(deployer)
  dep = await deployHansa({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    deployer: `0x${Buffer.from(deployer).toString('hex')}`,
    devFund,
  })
}, 60_000)

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => {})
  await anvil?.stop()
  for (const d of dirs) removeDir(d)
})

describe('subscriptions paid by transaction', () => {
  let node: TestNode
  let nodeKey: KeyPair
  const payout = getAddress(ethereumAddress(generateSecretKey()))
  const aliceSk = generateSecretKey()
  const alice = getPublicKey(aliceSk)
  let wallet: EvmWallet

  beforeAll(async () => {
    const { dir, key } = await nodeDir()
    nodeKey = key
    node = await startTestNode(
      evmFlags({
        'inbox.access': 'subscription',
        'billing.subscription.price': 1000,
        'billing.devTaxRate': 0.2,
        'billing.evm.confirmations': 2,
        'billing.evm.payout': payout,
      }),
      dir,
    )
    nodes.push(node)
    await fund(aliceSk, 1_000_000n)
    wallet = new EvmWallet({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, secretKey: aliceSk })
  })

  it('names the rail, chain, token and contracts in the terms and NIP-11', async () => {
    const { terms } = await getTerms(node.url)
    expect(terms.settlement).toEqual({
      rails: ['evm'],
      beneficiary: nodeKey.address,
      chainId: anvil.chainId,
      evm: {
        token: getAddress(dep.token),
        router: getAddress(dep.router),
        chequebookFactory: null,
        registry: getAddress(dep.registry),
        confirmations: 2,
      },
    })
    const info = (await (
      await fetch(node.url.replace('ws', 'http'), { headers: { accept: 'application/nostr+json' } })
    ).json()) as { fees: { hansa: { terms: { settlement: unknown } } } }
    expect(info.fees.hansa.terms.settlement).toEqual(terms.settlement)
  })

  it('pay → whitelisted, in one transaction (a permit); the router split the payment; the dev tax is booked as paid on chain', async () => {
    const { publicClient } = await wallet.chainClients()
    const sent = () => publicClient.getTransactionCount({ address: wallet.address })
    const before = await sent()
    const miner = setInterval(() => void mineBlocks(anvil.rpcUrl).catch(() => {}), 200)
    let result: Awaited<ReturnType<typeof subscribeOnChain>>
    try {
      result = await subscribeOnChain(node.url, { service: 'inbox', periods: 3 }, aliceSk, {
        rpcUrl: anvil.rpcUrl,
      })
    } finally {
      clearInterval(miner)
    }
    expect(result.subscription).toMatchObject({ active: true, owner: alice })
    // the test token takes ERC-2612 permits: no approve before the payment
    expect(await sent()).toBe(before + 1)
    expect(await tokenBalance(payout)).toBe(2400n)
    expect(await tokenBalance(devFund)).toBe(600n)
    const books = await getBilling(node.url, nodeKey.secretKey)
    expect(books.totals).toMatchObject({
      received: '3000',
      devTax: '600',
      devTaxPaid: '600',
      devTaxDue: '0',
    })
    expect(books.recentPayments[0]).toMatchObject({ rail: 'evm', reference: result.tx })
  })

  async function quote(periods = 1) {
    return quoteSubscription(node.url, { service: 'inbox', periods }, aliceSk)
  }
  const pay = (id: string, tx: string) =>
    payQuoteWithProof(node.url, id, { rail: 'evm', tx }, aliceSk)

  /** A router payment with the quote's fields, some of them changed. */
  async function payRouter(
    q: Awaited<ReturnType<typeof quote>>,
    change: { node?: Address; amount?: bigint } = {},
  ) {
    const p = q.pay as unknown as {
      call: {
        node: Address
        quote: Hex
        service: Hex
        periods: number
        pubkeys: Hex[]
        amount: string
      }
    }
    return wallet.payQuote({
      rail: 'evm',
      chainId: anvil.chainId,
      token: dep.token,
      router: dep.router,
      confirmations: 2,
      call: {
        ...p.call,
        node: change.node ?? p.call.node,
        amount: (change.amount ?? BigInt(p.call.amount)).toString(),
      },
    })
  }

  it('refuses a wrong amount, a wrong node, an unconfirmed and a reused transaction, each with its code', async () => {
    const q = await quote()
    const short = await payRouter(q, { amount: 999n })
    await mineBlocks(anvil.rpcUrl)
    expect(await refusal(pay(q.quote.id, short))).toMatchObject({
      code: 'HANSA_PAYMENT_AMOUNT',
      status: 402,
    })

    const other = generateSecretKey()
    const otherAddress = await fund(other)
    const otherWallet = new EvmWallet({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      secretKey: other,
    })
    const { walletClient, publicClient } = await otherWallet.chainClients()
    await publicClient.waitForTransactionReceipt({
      hash: await walletClient!.writeContract({
        address: dep.router,
        abi: PaymentRouter.abi,
        functionName: 'setNodeTerms',
        args: [otherAddress, 0],
      }),
    })
    const elsewhere = await payRouter(q, { node: otherAddress })
    await mineBlocks(anvil.rpcUrl)
    expect(await refusal(pay(q.quote.id, elsewhere))).toMatchObject({
      code: 'HANSA_PAYMENT_NODE',
      status: 402,
    })

    const good = await payRouter(q)
    expect(await refusal(pay(q.quote.id, good))).toMatchObject({
      code: 'HANSA_PAYMENT_UNCONFIRMED',
      status: 409,
    })
    await mineBlocks(anvil.rpcUrl)
    await pay(q.quote.id, good)

    const q2 = await quote()
    expect(await refusal(pay(q2.quote.id, good))).toMatchObject({
      code: 'HANSA_PAYMENT_REUSED',
      status: 409,
    })
    // another quote's payment does not pay this one
    expect(await refusal(pay(q2.quote.id, elsewhere))).toMatchObject({ code: 'HANSA_PAYMENT_NODE' })
    const q3 = await quote()
    const forQ3 = await payRouter(q3)
    await mineBlocks(anvil.rpcUrl)
    expect(await refusal(pay(q2.quote.id, forQ3))).toMatchObject({ code: 'HANSA_PAYMENT_QUOTE' })
    await pay(q3.quote.id, forQ3)
    expect(await refusal(pay(q2.quote.id, `0x${'12'.repeat(32)}`))).toMatchObject({
      code: 'HANSA_PAYMENT_TX_UNKNOWN',
    })
    expect(await refusal(pay(q2.quote.id, 'not-a-hash'))).toMatchObject({
      code: 'HANSA_PAYMENT_TX_MALFORMED',
    })
  })

  it('refuses a reverted transaction', async () => {
    const q = await quote()
    const p = q.pay as unknown as {
      call: {
        node: Address
        quote: Hex
        service: Hex
        periods: number
        pubkeys: Hex[]
        amount: string
      }
    }
    const { walletClient, publicClient } = await wallet.chainClients()
    // no allowance: the router's transferFrom fails; sent with a fixed gas limit, unsimulated
    await publicClient.waitForTransactionReceipt({
      hash: await walletClient!.writeContract({
        address: dep.token,
        abi: HansaTestToken.abi,
        functionName: 'approve',
        args: [dep.router, 0n],
      }),
    })
    const hash = await walletClient!.writeContract({
      address: dep.router,
      abi: PaymentRouter.abi,
      functionName: 'pay',
      args: [
        p.call.node,
        p.call.quote,
        p.call.service,
        p.call.periods,
        p.call.pubkeys,
        BigInt(p.call.amount),
      ],
      gas: 300_000n,
    })
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('reverted')
    await mineBlocks(anvil.rpcUrl)
    expect(await refusal(pay(q.quote.id, hash))).toMatchObject({
      code: 'HANSA_PAYMENT_REVERTED',
      status: 402,
    })
  })

  it("the node's books equal the sums of the router's Paid events for it", async () => {
    const { publicClient } = await wallet.chainClients()
    const logs = await publicClient.getContractEvents({
      address: dep.router,
      abi: PaymentRouter.abi,
      eventName: 'Paid',
      args: { node: getAddress(nodeKey.address) },
      fromBlock: 0n,
    })
    const books = await getBilling(node.url, nodeKey.secretKey)
    const credited = books.recentPayments.map((p) => p.reference).sort()
    // every Paid event for this node with the right amount was credited once; the short one not
    const good = logs.filter((l) => l.args.amount === 1000n || l.args.amount === 3000n)
    expect(credited).toEqual(good.map((l) => l.transactionHash).sort())
    const sum = good.reduce((n, l) => n + (l.args.amount ?? 0n), 0n)
    expect(books.totals.received).toBe(sum.toString())
  })
})

describe('SWAP hard mode', () => {
  const aliceSk = generateSecretKey()
  const bob = getPublicKey(generateSecretKey())
  const payout = getAddress(ethereumAddress(generateSecretKey()))
  let dir: string
  let nodeKey: KeyPair
  let node: TestNode
  let wallet: EvmWallet
  let chequebook: Address

  const hardFlags = (unitsPerEth: string) =>
    evmFlags({
      'inbox.access': 'metered',
      'billing.metered.swap': 'hard',
      'billing.metered.queryPrice': 10,
      'billing.metered.eventPrice': 20,
      'billing.metered.kilobytePrice': 5,
      'billing.metered.paymentThreshold': 200,
      'billing.devTaxRate': 0.25,
      'billing.evm.payout': payout,
      'billing.evm.unitsPerEth': unitsPerEth,
      'billing.evm.cashOutIntervalSeconds': 1,
    })

  beforeAll(async () => {
    ;({ dir, key: nodeKey } = await nodeDir())
    node = await startTestNode(hardFlags('0'), dir)
    nodes.push(node)
    await fund(aliceSk, 1_000_000n)
    wallet = new EvmWallet({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, secretKey: aliceSk })
    chequebook = await wallet.deployChequebook(dep.chequebookFactory, 3600n)
    await wallet.deposit(chequebook, dep.token, 1000n)
  })

  const cheque = (cumulative: bigint, book: string = chequebook) =>
    signCheque(
      {
        chequebook: book,
        beneficiary: nodeKey.address,
        cumulativePayout: cumulative,
        chainId: anvil.chainId,
      },
      aliceSk,
    )

  async function cashedSoFar(n: TestNode, count: number) {
    for (let i = 0; i < 200; i++) {
      const books = (await getBilling(n.url, nodeKey.secretKey)) as unknown as {
        settlement: {
          cashOuts: {
            cashOuts: Array<{
              tx: string
              chequebook: string
              paid: string
              devTax: string
              bounced: string
            }>
            uncashed: string
            cashed: string
            bounced: string
          }
        }
      }
      if (books.settlement.cashOuts.cashOuts.length >= count) return books.settlement.cashOuts
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`no ${count} cash-out(s) within 20 s`)
  }

  it('takes cheques only from factory chequebooks that cover them', async () => {
    const own = await cheque(100n, ethereumAddress(aliceSk))
    expect(await refusal(sendCheque(node.url, own, aliceSk))).toMatchObject({
      code: 'HANSA_CHEQUE_CHEQUEBOOK',
      status: 403,
    })
    expect(await refusal(sendCheque(node.url, await cheque(1001n), aliceSk))).toMatchObject({
      code: 'HANSA_CHEQUE_UNCOVERED',
      status: 402,
    })
  })

  it('cashes a credited cheque on chain: exact amounts to the payout address and the dev fund', async () => {
    const devBefore = await tokenBalance(devFund)
    const receipt = await sendCheque(node.url, await cheque(400n), aliceSk)
    expect(receipt.credited).toBe('400')
    const cash = await cashedSoFar(node, 1)
    expect(cash.cashOuts[0]).toMatchObject({ paid: '400', devTax: '100', bounced: '0' })
    expect(cash).toMatchObject({ cashed: '400', uncashed: '0', bounced: '0' })
    expect(await tokenBalance(payout)).toBe(300n)
    expect((await tokenBalance(devFund)) - devBefore).toBe(100n)
    const receiptOnChain = await (await wallet.chainClients()).publicClient.getTransactionReceipt({
      hash: cash.cashOuts[0]!.tx as Hex,
    })
    expect(receiptOnChain.status).toBe('success')
  })

  it('a cheque that bounces after a restart turns back into debt: the peer is refused', async () => {
    await node.stop()
    // gas priced so high that nothing is worth cashing: Carol's cheques wait uncashed
    node = await startTestNode(hardFlags('1000000000000000'), dir)
    nodes.push(node)
    const carolSk = generateSecretKey()
    await fund(carolSk, 10_000n)
    const carolWallet = new EvmWallet({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      secretKey: carolSk,
    })
    const book = await carolWallet.deployChequebook(dep.chequebookFactory, 3600n)
    await carolWallet.deposit(book, dep.token, 2000n)
    const payer = await SwapPayer.connect({
      nodeUrl: node.url,
      secretKey: carolSk,
      storage: memoryPayerStorage(),
      chequebook: book,
    })
    const connect = async () => {
      const relay = new Relay(node.url)
      relay.onauth = async (t) => finalizeEvent(t, carolSk)
      await relay.connect()
      await new Promise((r) => setTimeout(r, 150))
      return relay
    }
    const relay = await connect()
    const publish = (r: Relay, e: Event) => r.publish(e).catch((err: Error) => err.message)
    let paid = 0
    for (let i = 0; i < 40 && paid < 2; i++) {
      const wrap = nip17.wrapEvent(carolSk, { publicKey: bob }, `message ${i}`)
      expect(await publish(relay, wrap)).toBe('')
      payer.recordEvent(wrap)
      if (await payer.settle()) paid++
    }
    relay.close()
    expect(paid).toBe(2)
    const before = await getAccount(node.url, carolSk)
    expect(before.swap?.bounds).toBe('within')
    const owed = payer.account.cumulativePayout
    const waiting = await cashedSoFar(node, 1)
    expect(waiting.uncashed).toBe(owed.toString())
    // the issuer takes everything back (nothing was promised by a hard deposit)
    const status = await carolWallet.chequebookStatus(book, nodeKey.address)
    await carolWallet.withdraw(book, status.liquid)
    // restarted, the node looks at the waiting cheque again, sees it uncovered and cashes it
    await node.stop()
    node = await startTestNode(hardFlags('1000000000000000'), dir)
    nodes.push(node)
    const cash = await cashedSoFar(node, 2)
    const bounce = cash.cashOuts.find((c) => c.chequebook === book.toLowerCase())
    expect(bounce).toMatchObject({ paid: '0', bounced: owed.toString() })
    expect(cash.bounced).toBe(owed.toString())
    const after = await getAccount(node.url, carolSk)
    expect(BigInt(after.swap!.balance)).toBe(BigInt(before.swap!.balance) + owed)
    expect(after.swap?.bounds).toBe('debt')
    const relay2 = await connect()
    const refused = await publish(relay2, nip17.wrapEvent(carolSk, { publicKey: bob }, 'more'))
    relay2.close()
    expect(refused).toMatch(/^payment-required:/)
    // and the bounced chequebook is not taken any more
    const next = await signCheque(
      {
        chequebook: book,
        beneficiary: nodeKey.address,
        cumulativePayout: owed + 10n,
        chainId: anvil.chainId,
      },
      carolSk,
    )
    expect(await refusal(sendCheque(node.url, next, carolSk))).toMatchObject({
      code: 'HANSA_CHEQUE_BOUNCED',
    })
    // chain and books agree: what was cashed is the sum of the ChequeCashed events
    let onChain = 0n
    for (const address of [chequebook, book]) {
      const logs = await (await carolWallet.chainClients()).publicClient.getContractEvents({
        address,
        abi: Chequebook.abi,
        eventName: 'ChequeCashed',
        fromBlock: 0n,
      })
      onChain += logs.reduce((n, l) => n + (l.args.paid ?? 0n), 0n)
    }
    expect(cash.cashed).toBe(onChain.toString())
  })
})

describe('cash-outs when the chain goes away', () => {
  it('a cash-out that fails while the RPC is down is retried and cashed once when it is back', async () => {
    // a chain of its own, restarted on the same port from its saved state
    const stateDir = mkdtempSync(join(tmpdir(), 'hansa-evm-state-'))
    dirs.push(stateDir)
    const statePath = join(stateDir, 'state.json')
    let chain = await startAnvil({ statePath })
    const port = chain.port
    const deployer = generateSecretKey()
    await setEthBalance(chain.rpcUrl, getAddress(ethereumAddress(deployer)), 10n ** 20n)
    const d = await deployHansa({
      rpcUrl: chain.rpcUrl,
      chainId: chain.chainId,
      deployer: `0x${Buffer.from(deployer).toString('hex')}`,
      devFund,
    })
    const dir = mkdtempSync(join(tmpdir(), 'hansa-evm-'))
    dirs.push(dir)
    const key = createKeyFile(join(dir, 'node.key'))
    await setEthBalance(chain.rpcUrl, getAddress(key.address), 10n ** 20n)
    const flags = (unitsPerEth: string) => ({
      'inbox.access': 'metered',
      'billing.metered.swap': 'hard',
      'billing.unit': 'HTT',
      'billing.rail': 'evm',
      'billing.chainId': chain.chainId,
      'billing.evm.rpcUrl': chain.rpcUrl,
      'billing.evm.token': d.token,
      'billing.evm.router': d.router,
      'billing.evm.chequebookFactory': d.chequebookFactory,
      'billing.evm.unitsPerEth': unitsPerEth,
      'billing.evm.cashOutIntervalSeconds': 1,
    })
    const userSk = generateSecretKey()
    await setEthBalance(chain.rpcUrl, getAddress(ethereumAddress(userSk)), 10n ** 20n)
    const wallet = new EvmWallet({
      rpcUrl: chain.rpcUrl,
      chainId: chain.chainId,
      secretKey: userSk,
    })
    await wallet.faucet(d.token, 10_000n)
    const book = await wallet.deployChequebook(d.chequebookFactory, 3600n)
    await wallet.deposit(book, d.token, 5000n)
    // credited while gas is priced too high to cash: it waits
    let node = await startTestNode(flags('1000000000000000'), dir)
    nodes.push(node)
    const signed = await signCheque(
      {
        chequebook: book,
        beneficiary: key.address,
        cumulativePayout: 700n,
        chainId: chain.chainId,
      },
      userSk,
    )
    expect((await sendCheque(node.url, signed, userSk)).credited).toBe('700')
    await node.stop()
    await chain.stop()
    // the node comes back cheap to cash, but the chain is gone: the cash-out fails and waits
    node = await startTestNode(flags('0'), dir)
    nodes.push(node)
    type Books = {
      settlement: {
        cashOuts: {
          chequebooks: Array<{ status: string; attempts: number; lastError: string | null }>
          cashed: string
          cashOuts: unknown[]
        }
      }
    }
    const books = async () => (await getBilling(node.url, key.secretKey)) as unknown as Books
    let failed: Books['settlement']['cashOuts']['chequebooks'][number] | undefined
    for (let i = 0; i < 100 && !failed; i++) {
      failed = (await books()).settlement.cashOuts.chequebooks.find((c) => c.attempts > 0)
      if (!failed) await new Promise((r) => setTimeout(r, 100))
    }
    expect(failed).toMatchObject({ status: 'failed' })
    expect(failed?.lastError).toBeTruthy()
    // a cheque sent meanwhile is refused, and nothing is credited
    const more = await signCheque(
      {
        chequebook: book,
        beneficiary: key.address,
        cumulativePayout: 900n,
        chainId: chain.chainId,
      },
      userSk,
    )
    expect(await refusal(sendCheque(node.url, more, userSk))).toMatchObject({
      code: 'HANSA_CHAIN_UNAVAILABLE',
      status: 503,
    })
    // the chain is back where it was: the next retry cashes, once
    chain = await startAnvil({ statePath, port })
    try {
      let cashed = ''
      for (let i = 0; i < 100 && cashed !== '700'; i++) {
        cashed = (await books()).settlement.cashOuts.cashed
        if (cashed !== '700') await new Promise((r) => setTimeout(r, 100))
      }
      expect(cashed).toBe('700')
      const logs = await (await wallet.chainClients()).publicClient.getContractEvents({
        address: book,
        abi: Chequebook.abi,
        eventName: 'ChequeCashed',
        fromBlock: 0n,
      })
      expect(logs.map((l) => l.args.paid)).toEqual([700n])
      expect((await getAccount(node.url, userSk)).swap?.paid).toBe('700')
    } finally {
      await node.stop()
      await chain.stop()
    }
  })
})

describe('the chain unreachable', () => {
  it('refuses a payment with HANSA_CHAIN_UNAVAILABLE and credits nothing', async () => {
    const { dir, key } = await nodeDir()
    const node = await startTestNode(evmFlags({ 'inbox.access': 'subscription' }), dir)
    nodes.push(node)
    const sk = generateSecretKey()
    const q = await quoteSubscription(node.url, { service: 'inbox', periods: 1 }, sk)
    await anvil.stop()
    const r = await refusal(
      payQuoteWithProof(node.url, q.quote.id, { rail: 'evm', tx: `0x${'ab'.repeat(32)}` }, sk),
    )
    expect(r).toMatchObject({ code: 'HANSA_CHAIN_UNAVAILABLE', status: 503 })
    expect(r.message).toMatch(/nothing was credited/)
    const books = await getBilling(node.url, key.secretKey)
    expect(books.totals.payments).toBe(0)
  })
})
