// Every bad cheque is refused over HTTP with its reason and code, and nothing is credited:
// malformed, another chain, another beneficiary, another signer, a replay, a payout that does
// not increase; a request without NIP-98 auth is refused before any of it.
import { type NodeRequestError, sendCheque } from '@hansa/client'
import { type SignedCheque, ethereumAddress, signCheque } from '@hansa/protocol'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

const aliceSk = generateSecretKey()
const mallorySk = generateSecretKey()

describe('cheques refused with their reason', () => {
  let node: TestNode
  const cheque = (
    payout: bigint,
    over: Partial<Parameters<typeof signCheque>[0]> = {},
    sk = aliceSk,
  ) =>
    signCheque(
      {
        chequebook: ethereumAddress(aliceSk),
        beneficiary: node.key.address,
        cumulativePayout: payout,
        chainId: 31337,
        ...over,
      },
      sk,
    )
  const refusal = async (c: unknown, sk = aliceSk) => {
    try {
      await sendCheque(node.url, c as SignedCheque, sk)
    } catch (e) {
      const err = e as NodeRequestError
      return { status: err.status, code: err.code, message: err.message }
    }
    throw new Error('the cheque was credited')
  }

  beforeAll(async () => {
    node = await startTestNode({ 'inbox.access': 'metered' })
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('credits a good cheque with its rise', async () => {
    const r = await sendCheque(node.url, await cheque(5000n), aliceSk)
    expect(r).toMatchObject({ credited: '5000', devTax: '1000', cumulativePayout: '5000' })
    expect(r.account).toMatchObject({ balance: '-5000', paid: '5000', peer: getPublicKey(aliceSk) })
  })

  it('malformed', async () => {
    const good = await cheque(6000n)
    const cases: Array<[unknown, string]> = [
      [{ ...good, cumulativePayout: 6000 }, 'cumulativePayout must be a string of decimal digits'],
      [{ ...good, cumulativePayout: '-1' }, 'cumulativePayout must be a string of decimal digits'],
      [{ ...good, signature: '0x1234' }, 'signature must be 0x and 130 hex digits'],
      [{ ...good, chequebook: 'alice' }, 'chequebook must be an Ethereum address'],
      [{ ...good, memo: 'x' }, 'unknown field "memo"'],
      ['a cheque', 'a cheque is a JSON object'],
      [{ ...good, signature: `0x${'00'.repeat(65)}` }, 'no key recovers from the signature'],
    ]
    for (const [value, reason] of cases) {
      const r = await refusal(value)
      expect(r.status).toBe(400)
      expect(r.code).toBe('HANSA_CHEQUE_MALFORMED')
      expect(r.message).toContain(`cheque refused: ${reason}`)
    }
  })

  it('wrong chain, wrong beneficiary', async () => {
    expect(await refusal(await cheque(6000n, { chainId: 1 }))).toEqual({
      status: 400,
      code: 'HANSA_CHEQUE_CHAIN',
      message: 'cheque refused: the cheque is for chain 1; this node takes cheques for chain 31337',
    })
    const other = ethereumAddress(generateSecretKey())
    expect(await refusal(await cheque(6000n, { beneficiary: other }))).toEqual({
      status: 400,
      code: 'HANSA_CHEQUE_BENEFICIARY',
      message: `cheque refused: the cheque pays ${other}, not this node (${node.key.address})`,
    })
  })

  it('wrong signer: another key signs for her chequebook, or she sends his cheque', async () => {
    const forged = await refusal(await cheque(6000n, {}, mallorySk))
    expect(forged).toMatchObject({ status: 403, code: 'HANSA_CHEQUE_SIGNER' })
    expect(forged.message).toBe(
      `cheque refused: the cheque is signed by ${ethereumAddress(mallorySk)}, not by the issuer of chequebook ${ethereumAddress(aliceSk).slice(0, 10)}… (${ethereumAddress(aliceSk).toLowerCase()})`,
    )
    const his = await cheque(6000n, { chequebook: ethereumAddress(mallorySk) }, mallorySk)
    const r = await refusal(his, aliceSk)
    expect(r).toMatchObject({ status: 403, code: 'HANSA_CHEQUE_SIGNER' })
    expect(r.message).toMatch(/not by the key you authenticated as/)
  })

  it('replay and a payout that does not increase', async () => {
    const second = await cheque(8000n)
    expect((await sendCheque(node.url, second, aliceSk)).credited).toBe('3000')
    expect(await refusal(second)).toEqual({
      status: 409,
      code: 'HANSA_CHEQUE_REPLAY',
      message: 'cheque refused: this cheque (cumulative payout 8000) was already credited',
    })
    const lower = await refusal(await cheque(7000n))
    expect(lower).toMatchObject({ status: 409, code: 'HANSA_CHEQUE_NOT_INCREASING' })
    expect(lower.message).toMatch(
      /^cheque refused: cumulative payout 7000 does not exceed the 8000 already credited from chequebook 0x[0-9a-fA-F]{8}…; cheques are cumulative$/,
    )
    // Two cheques raced: the second to commit is refused, the total is credited once.
    const [a, b] = await Promise.allSettled([
      sendCheque(node.url, await cheque(9000n), aliceSk),
      sendCheque(node.url, await cheque(9000n), aliceSk),
    ])
    expect([a.status, b.status].sort()).toEqual(['fulfilled', 'rejected'])
  })

  it('refuses a request without valid NIP-98 auth', async () => {
    const res = await fetch(`${node.httpUrl}/cheques`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cheque: await cheque(10_000n) }),
    })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HANSA_HTTP_AUTH')
    // A header whose signature does not verify (checked by the node's verifier pool).
    const url = `${node.httpUrl}/account`
    const event = finalizeEvent(
      {
        kind: 27235,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['u', url],
          ['method', 'GET'],
        ],
        content: '',
      },
      aliceSk,
    )
    const forged = { ...event, sig: `${event.sig.slice(0, -2)}00` }
    const bad = await fetch(url, {
      headers: { authorization: `Nostr ${Buffer.from(JSON.stringify(forged)).toString('base64')}` },
    })
    expect(bad.status).toBe(401)
    expect(await bad.json()).toEqual({
      error: {
        code: 'HANSA_HTTP_AUTH',
        message: 'NIP-98 authorization refused: the event signature is not valid',
      },
    })
  })

  it('credited nothing for any of them', async () => {
    const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(/hansa_billing_received\{unit="msat"\} 9000/)
    // The replay, and the loser of the race (the same cheque: signatures are deterministic).
    expect(metrics).toMatch(/hansa_cheques_total\{result="HANSA_CHEQUE_REPLAY"\} 2/)
    expect(metrics).toMatch(/hansa_cheques_total\{result="credited"\} 3/)
  })
})

describe('paid-access configuration', () => {
  it('a dev tax of 0 is allowed, shown in the terms and booked as 0', async () => {
    const node = await startTestNode({ 'inbox.access': 'metered', 'billing.devTaxRate': 0 })
    try {
      const terms = (await (await fetch(`${node.httpUrl}/terms`)).json()) as {
        terms: { devTax: unknown }
      }
      expect(terms.terms.devTax).toEqual({ rateBps: 0, recipient: null })
      const cheque = await signCheque(
        {
          chequebook: ethereumAddress(aliceSk),
          beneficiary: node.key.address,
          cumulativePayout: 777n,
          chainId: 31337,
        },
        aliceSk,
      )
      expect(await sendCheque(node.url, cheque, aliceSk)).toMatchObject({
        credited: '777',
        devTax: '0',
      })
    } finally {
      await node.stop()
      removeDir(node.dataDir)
    }
  })

  it('refuses to start with a mode or rail that is not built or not set up, saying which', async () => {
    await expect(
      startTestNode({ 'inbox.access': 'metered', 'billing.metered.swap': 'hard' }),
    ).rejects.toThrow(
      /billing.metered.swap hard cashes cheques on chain: it needs billing.rail evm/,
    )
    await expect(startTestNode({ 'billing.rail': 'evm' })).rejects.toThrow(
      'billing.rail evm needs billing.evm.rpcUrl',
    )
    await expect(startTestNode({ 'billing.rail': 'lightning' })).rejects.toThrow(
      'billing.rail lightning is not built yet; use ledger (cheques credited on trust)',
    )
    await expect(startTestNode({ 'billing.devTaxRate': 1.5 })).rejects.toThrow(
      'billing.devTaxRate must be a number from 0 to 1',
    )
  })
})
