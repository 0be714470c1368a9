// SWAP accounting on a metered inbox: a client that pays when its debt reaches the payment
// threshold (a cheque, credited) is served without end, and both sides' books agree; a client
// that stops paying is refused past the disconnect threshold with its balance, and logged out
// of bounds — in soft mode only logged; balances and books survive a restart; the dev tax is
// booked exactly, in integer units.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SwapPayer, getAccount, getBilling, memoryPayerStorage } from '@hansa/client'
import { type HansaNode, readKeyFile, resolveConfig, startNode } from '@hansa/node'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import * as nip17 from 'nostr-tools/nip17'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import pino from 'pino'
import WebSocket from 'ws'
import { afterAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir } from './helpers.js'

useWebSocketImplementation(WebSocket)

const METERED = {
  'inbox.access': 'metered',
  'billing.metered.queryPrice': 10,
  'billing.metered.eventPrice': 20,
  'billing.metered.kilobytePrice': 5,
  'billing.metered.paymentThreshold': 200,
}

type LogLine = { level: number; msg: string; peer?: string; balance?: string }

async function start(flags: Record<string, unknown>, dataDir: string) {
  const lines: LogLine[] = []
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) })
  const config = resolveConfig({
    flags: { dataDir, port: 0, 'verify.threads': 1, ...METERED, ...flags },
  })
  const node = await startNode(config, { log })
  return { node, lines }
}

async function connectAs(url: string, sk: Uint8Array): Promise<Relay> {
  const relay = new Relay(url)
  relay.onauth = async (t) => finalizeEvent(t, sk)
  await relay.connect()
  await new Promise((r) => setTimeout(r, 150))
  return relay
}

function read(relay: Relay, filter: Record<string, unknown>) {
  return new Promise<{ events: Event[]; closed?: string }>((resolve) => {
    const events: Event[] = []
    const sub = relay.subscribe([filter], {
      onevent: (e) => events.push(e),
      oneose: () => {
        resolve({ events })
        sub.close()
      },
      onclose: (reason) => resolve({ events, closed: reason }),
    })
  })
}

const publish = (relay: Relay, e: Event) => relay.publish(e).catch((err: Error) => err.message)

const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'hansa-swap-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) removeDir(d)
})

describe('metered inbox, mock mode', () => {
  const aliceSk = generateSecretKey()
  const bob = getPublicKey(generateSecretKey())
  const dataDir = tempDir()
  let node: HansaNode
  let lines: LogLine[]
  const storage = memoryPayerStorage()

  it('publishes metered terms (25 % tolerance above the payment threshold)', async () => {
    ;({ node, lines } = await start({}, dataDir))
    const payer = await SwapPayer.connect({ nodeUrl: node.url, secretKey: aliceSk, storage })
    expect(payer.terms.services.inbox).toEqual({
      access: 'metered',
      unit: 'msat',
      prices: { query: '10', event: '20', kilobyte: '5' },
      paymentThreshold: '200',
      disconnectThreshold: '250',
      swap: 'mock',
    })
  })

  it('asks an unauthenticated sender to authenticate', async () => {
    const anon = await Relay.connect(node.url)
    const wrap = nip17.wrapEvent(aliceSk, { publicKey: bob }, 'hi')
    expect(await publish(anon, wrap)).toBe(
      'auth-required: this node meters the inbox: authenticate (NIP-42) so your account can be charged',
    )
    anon.close()
  })

  it('a client that pays at the payment threshold is never refused; both books agree', async () => {
    const payer = await SwapPayer.connect({ nodeUrl: node.url, secretKey: aliceSk, storage })
    const relay = await connectAs(node.url, aliceSk)
    const receipts = []
    for (let i = 0; i < 30; i++) {
      const wrap = nip17.wrapEvent(aliceSk, { publicKey: bob }, `message ${i}`)
      expect(await publish(relay, wrap)).toBe('')
      payer.recordEvent(wrap)
      const receipt = await payer.settle()
      if (receipt) receipts.push(receipt)
    }
    const alice = getPublicKey(aliceSk)
    const mine = nip17.wrapEvent(generateSecretKey(), { publicKey: alice }, 'for alice')
    expect(await publish(relay, mine)).toBe('')
    payer.recordEvent(mine)
    for (let i = 0; i < 10; i++) {
      const res = await read(relay, { kinds: [1059], '#p': [alice] })
      expect(res.closed).toBeUndefined()
      expect(res.events).toHaveLength(1)
      payer.recordQuery(res.events)
      const receipt = await payer.settle()
      if (receipt) receipts.push(receipt)
    }
    relay.close()
    expect(receipts.length).toBeGreaterThanOrEqual(3)
    for (const r of receipts) expect(BigInt(r.credited)).toBeGreaterThanOrEqual(200n)
    const last = receipts.at(-1)!
    expect(last.cumulativePayout).toBe(payer.account.cumulativePayout.toString())
    const account = await getAccount(node.url, aliceSk)
    expect(account.swap).toMatchObject({
      balance: payer.account.balance.toString(),
      charged: payer.account.charged.toString(),
      paid: payer.account.paid.toString(),
      bounds: 'within',
    })
    expect(account.chequebook?.cumulativePayout).toBe(payer.account.cumulativePayout.toString())
    // a payer that lost its books adopts the node's record of its chequebook, and only of it
    const fresh = await SwapPayer.connect({ nodeUrl: node.url, secretKey: aliceSk })
    await fresh.sync()
    expect(fresh.account.cumulativePayout).toBe(payer.account.cumulativePayout)
    const other = await SwapPayer.connect({
      nodeUrl: node.url,
      secretKey: aliceSk,
      chequebook: `0x${'42'.repeat(20)}`,
    })
    await other.sync()
    expect(other.account.cumulativePayout).toBe(0n)
  })

  it('refuses a client that stops paying past the disconnect threshold, and logs it', async () => {
    const mallorySk = generateSecretKey()
    const mallory = getPublicKey(mallorySk)
    const relay = await connectAs(node.url, mallorySk)
    let refusal = ''
    let sent = 0
    while (sent < 100) {
      const reply = await publish(relay, nip17.wrapEvent(mallorySk, { publicKey: bob }, 'free?'))
      if (reply !== '') {
        refusal = reply
        break
      }
      sent++
    }
    const owed = (await getAccount(node.url, mallorySk)).swap!
    expect(BigInt(owed.balance)).toBeGreaterThan(200n)
    expect(refusal).toBe(
      `payment-required: you owe ${owed.balance} msat, past this node's disconnect threshold of 250 msat; send a cheque (POST /cheques) to continue`,
    )
    // A query costs less than an event, so one more may be admitted; then she is refused.
    let closed: string | undefined
    for (let i = 0; i < 3 && closed === undefined; i++) {
      closed = (await read(relay, { kinds: [1059], '#p': [mallory] })).closed
    }
    expect(closed).toMatch(
      /^payment-required: you owe \d+ msat, past this node's disconnect threshold/,
    )
    expect(
      lines.some(
        (l) =>
          l.msg === 'swap: peer out of bounds: refusing its requests until it pays' &&
          l.peer === mallory,
      ),
    ).toBe(true)
    // She pays what she owes and is served again.
    const payer = await SwapPayer.connect({ nodeUrl: node.url, secretKey: mallorySk })
    const due = BigInt((await getAccount(node.url, mallorySk)).swap!.balance)
    const receipt = await payer.payNow(due)
    expect(receipt.account.balance).toBe('0')
    expect(await publish(relay, nip17.wrapEvent(mallorySk, { publicKey: bob }, 'paid'))).toBe('')
    relay.close()
  })

  it('books every cheque with the dev tax, exactly; balances and books survive a restart', async () => {
    const nodeKey = readKeyFile(join(dataDir, 'node.key')).secretKey
    const before = await getBilling(node.url, nodeKey)
    const received = BigInt(before.totals.received)
    expect(BigInt(before.totals.income) + BigInt(before.totals.devTax)).toBe(received)
    expect(BigInt(before.totals.devTax)).toBe((received * 2000n) / 10000n)
    let taxSum = 0n
    for (const p of before.recentPayments) {
      expect(BigInt(p.income) + BigInt(p.devTax)).toBe(BigInt(p.amount))
      taxSum += BigInt(p.devTax)
    }
    expect(taxSum).toBe(BigInt(before.totals.devTax))
    const aliceBefore = await getAccount(node.url, aliceSk)

    await node.close()
    ;({ node, lines } = await start({}, dataDir))
    const after = await getBilling(node.url, nodeKey)
    expect(after.totals).toEqual(before.totals)
    expect(after.swap?.peers).toEqual(before.swap?.peers)
    expect(await getAccount(node.url, aliceSk)).toEqual(aliceBefore)
    // Her payer carries on where it was: the next cheque continues the cumulative payout.
    const payer = await SwapPayer.connect({ nodeUrl: node.url, secretKey: aliceSk, storage })
    const relay = await connectAs(node.url, aliceSk)
    let receipt = null
    while (receipt === null) {
      const wrap = nip17.wrapEvent(aliceSk, { publicKey: bob }, 'after the restart')
      expect(await publish(relay, wrap)).toBe('')
      payer.recordEvent(wrap)
      receipt = await payer.settle()
    }
    relay.close()
    expect(receipt.account.balance).toBe('0')
    expect(BigInt(receipt.cumulativePayout)).toBeGreaterThan(
      BigInt(aliceBefore.chequebook!.cumulativePayout),
    )
    await node.close()
  })
})

describe('metered inbox, soft mode', () => {
  it('never refuses; logs the peer out of bounds and shows it in the books', async () => {
    const { node, lines } = await start(
      { 'billing.metered.swap': 'soft', metricsToken: 'scrape-token' },
      tempDir(),
    )
    try {
      const sk = generateSecretKey()
      const pk = getPublicKey(sk)
      const relay = await connectAs(node.url, sk)
      for (let i = 0; i < 25; i++) {
        const wrap = nip17.wrapEvent(sk, { publicKey: pk }, `note ${i}`)
        expect(await publish(relay, wrap)).toBe('')
      }
      const res = await read(relay, { kinds: [1059], '#p': [pk] })
      expect(res.closed).toBeUndefined()
      expect(res.events).toHaveLength(25)
      relay.close()
      expect(
        lines.find((l) => l.msg.startsWith('swap: peer out of bounds (owes more') && l.peer === pk)
          ?.msg,
      ).toBe(
        'swap: peer out of bounds (owes more than the disconnect threshold; soft mode: still served)',
      )
      const nodeKey = readKeyFile(join(node.config.dataDir, 'node.key')).secretKey
      const books = await getBilling(node.url, nodeKey)
      expect(books.swap?.mode).toBe('soft')
      expect(books.swap?.outOfBounds).toEqual([
        { peer: pk, direction: 'debt', balance: books.swap!.peers[0]!.balance },
      ])
      const metrics = await (
        await fetch(`${node.httpUrl}/metrics`, {
          headers: { authorization: 'Bearer scrape-token' },
        })
      ).text()
      expect(metrics).toContain('hansa_swap_out_of_bounds_peers{direction="debt"} 1')
      expect(metrics).toMatch(new RegExp(`hansa_swap_balance\\{peer="${pk}",unit="msat"\\} \\d+`))
    } finally {
      await node.close()
    }
  })

  it('leaves traffic that is not the inbox free (a note, a query without mail)', async () => {
    const { node } = await start({}, tempDir())
    try {
      const client = await RawClient.connect(node.url)
      const note = finalizeEvent(
        { kind: 1, tags: [], content: 'free', created_at: Math.floor(Date.now() / 1000) },
        generateSecretKey(),
      )
      client.send(['EVENT', note])
      expect((await client.ok(note.id))[2]).toBe(true)
      client.send(['REQ', 'q', { kinds: [1] }])
      expect((await client.collect('q')).events).toHaveLength(1)
      client.close()
    } finally {
      await node.close()
    }
  })
})
