// Attacks on paid access that try to be served without paying for it: a cheque for 2^256−1 on
// the ledger rail (an IOU nobody cashes) to buy unlimited service, and a payment whose booking
// fails half-way, which must not leave the balance the relay reads credited.
import { getAccount, type NodeRequestError, sendCheque } from '@hansa/client'
import { ethereumAddress, signCheque } from '@hansa/protocol'
import Database from 'better-sqlite3'
import { generateSecretKey } from 'nostr-tools/pure'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

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
