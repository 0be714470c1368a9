// Attacks on paid access that try to be served without paying for it: a cheque for 2^256−1 on
// the ledger rail (an IOU nobody cashes) to buy unlimited service; a payment whose booking
// fails half-way, which must not leave the balance the relay reads credited; a reader who owes
// hiding behind a fresh key on the same connection; mail read live, on a subscription opened
// while the reader could still pay.
import { getAccount, type NodeRequestError, sendCheque } from '@hansa/client'
import { ethereumAddress, signCheque } from '@hansa/protocol'
import Database from 'better-sqlite3'
import * as nip17 from 'nostr-tools/nip17'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

const MAX_UINT256 = 2n ** 256n - 1n

async function refusal(run: () => Promise<unknown>) {
  try {
    await run()
  } catch (e) {
    const err = e as NodeRequestError
    return { status: err.status, code: err.code, message: err.message }
  }
  throw new Error('it was accepted')
}

describe('attack: paying with a cheque nobody can cash', () => {
  let node: TestNode
  const aliceSk = generateSecretKey()
  const cheque = (payout: bigint) =>
    signCheque(
      {
        chequebook: ethereumAddress(aliceSk),
        beneficiary: node.key.address,
        cumulativePayout: payout,
        chainId: 31337,
      },
      aliceSk,
    )

  beforeAll(async () => {
    // paymentThreshold 10,000 (default): the ledger rail takes at most 100,000 ahead
    node = await startTestNode({ 'inbox.access': 'metered' })
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('a cheque for 2^256−1 is refused and buys nothing', async () => {
    const r = await refusal(async () => sendCheque(node.url, await cheque(MAX_UINT256), aliceSk))
    expect(r).toMatchObject({ status: 400, code: 'HANSA_CHEQUE_AHEAD' })
    expect(r.message).toMatch(/at most 100000 .* ahead on the ledger rail/)
    expect(r.message).toContain('sign a cumulative payout at most 100000')
    const account = await getAccount(node.url, aliceSk)
    expect(account.swap).toMatchObject({ balance: '0', paid: '0' })
  })

  it('a cheque up to the cap is credited; one more unit past it is not', async () => {
    const ok = await sendCheque(node.url, await cheque(100_000n), aliceSk)
    expect(ok.account).toMatchObject({ balance: '-100000', paid: '100000' })
    const r = await refusal(async () => sendCheque(node.url, await cheque(100_001n), aliceSk))
    expect(r).toMatchObject({ status: 400, code: 'HANSA_CHEQUE_AHEAD' })
    expect(r.message).toContain('sign a cumulative payout at most 100000')
  })
})

describe('attack: a payment whose booking fails', () => {
  let node: TestNode
  const bobSk = generateSecretKey()

  beforeAll(async () => {
    node = await startTestNode({ 'inbox.access': 'metered' })
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('leaves the balance the relay reads as it was, and the cheque still payable', async () => {
    const cheque = await signCheque(
      {
        chequebook: ethereumAddress(bobSk),
        beneficiary: node.key.address,
        cumulativePayout: 5000n,
        chainId: 31337,
      },
      bobSk,
    )
    // The books refuse every payment (as a full disk or a broken file would), from another
    // connection to the node's own billing database.
    const db = new Database(join(node.dataDir, 'billing.sqlite'))
    db.exec(
      "CREATE TRIGGER books_fail BEFORE INSERT ON payments BEGIN SELECT RAISE(ABORT, 'the books are full'); END",
    )
    const failed = await refusal(() => sendCheque(node.url, cheque, bobSk))
    expect(failed.status).toBe(500)
    expect((await getAccount(node.url, bobSk)).swap).toMatchObject({ balance: '0', paid: '0' })

    db.exec('DROP TRIGGER books_fail')
    db.close()
    // Nothing of the failed attempt remains: the same cheque is credited now, once.
    const paid = await sendCheque(node.url, cheque, bobSk)
    expect(paid.account).toMatchObject({ balance: '-5000', paid: '5000' })
    expect((await getAccount(node.url, bobSk)).swap).toMatchObject({ balance: '-5000' })
  })
})

/** A connection authenticated (NIP-42) as each of `keys`, in order. */
async function connectAs(url: string, ...keys: Uint8Array[]): Promise<RawClient> {
  const client = await RawClient.connect(url)
  const [, challenge] = (await client.next((m) => m[0] === 'AUTH')) as [string, string]
  for (const sk of keys) {
    const auth = finalizeEvent(
      {
        kind: 22242,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['relay', url],
          ['challenge', challenge],
        ],
        content: '',
      },
      sk,
    )
    client.send(['AUTH', auth])
    expect((await client.ok(auth.id))[2]).toBe(true)
  }
  return client
}

describe('attack: reading metered mail without paying', () => {
  let node: TestNode
  // Each mail from a sender of its own: sending is charged too, to the sender.
  const mail = async (to: string) => {
    const senderSk = generateSecretKey()
    const sender = await connectAs(node.url, senderSk)
    const wrap = nip17.wrapEvent(senderSk, { publicKey: to }, 'x'.repeat(200))
    sender.send(['EVENT', wrap])
    expect((await sender.ok(wrap.id))[2]).toBe(true)
    sender.close()
    return wrap
  }
  const balanceOf = async (sk: Uint8Array) => BigInt((await getAccount(node.url, sk)).swap!.balance)

  beforeAll(async () => {
    // A kilobyte costs 1000: each gift wrap read costs about 1,200; past 2,500 a reader is cut.
    node = await startTestNode({
      'inbox.access': 'metered',
      'billing.metered.queryPrice': 10,
      'billing.metered.kilobytePrice': 1000,
      'billing.metered.paymentThreshold': 2000,
      'limits.queriesPerSecond': 0,
    })
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('a reader who owes cannot hide behind a fresh key on the same connection', async () => {
    const aliceSk = generateSecretKey()
    const alice = getPublicKey(aliceSk)
    await mail(alice)
    const reader = await connectAs(node.url, aliceSk)
    let refused: unknown[] | undefined
    for (let i = 0; i < 10 && !refused; i++) {
      reader.send(['REQ', `r${i}`, { kinds: [1059], '#p': [alice] }])
      const { end } = await reader.collect(`r${i}`)
      if (end[0] === 'CLOSED') refused = end
    }
    expect(String(refused?.[2])).toMatch(
      /^payment-required: you owe \d+ msat, past this node's disconnect threshold of 2500/,
    )
    reader.close()

    // A fresh key first, then hers: her mail is still hers to pay for.
    const freshSk = generateSecretKey()
    const both = await connectAs(node.url, freshSk, aliceSk)
    both.send(['REQ', 'hide', { kinds: [1059], '#p': [alice] }])
    const { events, end } = await both.collect('hide')
    expect(events).toEqual([])
    expect(end[0]).toBe('CLOSED')
    expect(String(end[2])).toMatch(new RegExp(`^payment-required: ${alice.slice(0, 12)}… owes`))
    expect(await balanceOf(freshSk)).toBe(0n)
    both.close()
  })

  it('mail delivered live is charged to its reader, and cut off past her threshold', async () => {
    const carolSk = generateSecretKey()
    const carol = getPublicKey(carolSk)
    const reader = await connectAs(node.url, carolSk)
    reader.send(['REQ', 'live', { kinds: [1059], '#p': [carol] }])
    expect((await reader.collect('live')).end[0]).toBe('EOSE')
    const opened = await balanceOf(carolSk)
    expect(opened).toBe(10n) // the REQ's base price; nothing stored yet

    const first = await mail(carol)
    const got = await reader.next((m) => m[1] === 'live')
    expect((got[2] as { id: string }).id).toBe(first.id)
    const bytes = BigInt(Buffer.byteLength(JSON.stringify(got[2])))
    const price = (bytes * 1000n + 1023n) / 1024n
    expect(await balanceOf(carolSk)).toBe(opened + price)

    // She reads on without paying: the subscription is closed once she is past the threshold,
    // and what arrives after that is not sent to her.
    let closed: unknown[] | undefined
    let delivered = 1
    for (let i = 0; i < 10 && !closed; i++) {
      await mail(carol)
      const m = await reader.next((x) => x[1] === 'live')
      if (m[0] === 'CLOSED') closed = m
      else delivered++
    }
    expect(String(closed?.[2])).toMatch(/^payment-required: you owe \d+ msat/)
    expect(delivered).toBeGreaterThan(1)
    const owed = await balanceOf(carolSk)
    // served while she owed at most the threshold: at most one delivery past it
    expect(owed).toBeGreaterThan(2500n)
    expect(owed).toBeLessThanOrEqual(2500n + price + price / 10n)
    reader.close()
  })
})
