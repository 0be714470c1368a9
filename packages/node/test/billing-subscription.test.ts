// The Status paid master node, end to end: Alice subscribes to a node's inbox for 2 periods;
// Bob mails her while she is offline; she comes back and reads it; her subscription expires;
// new mail for her is refused and her reads are refused, each with the expiry date, while her
// stored mail is kept; she renews and reads it. One subscription covers her other app key.
// The node runs on a clock of its own (days pass in a line); clients sign with that clock.
import {
  NodeRequestError,
  addSubscriptionKey,
  getBilling,
  getSubscriptions,
  getTerms,
  quoteSubscription,
  removeSubscriptionKey,
  signSubscriptionConsent,
  subscribeWith,
} from '@hansa/client'
import { getToken } from 'nostr-tools/nip98'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import * as nip17 from 'nostr-tools/nip17'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LedgerRail, readKeyFile } from '@hansa/node'
import { join } from 'node:path'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

useWebSocketImplementation(WebSocket)

const DAY = 86_400
const aliceSk = generateSecretKey()
const alice = getPublicKey(aliceSk)
const alicePhoneSk = generateSecretKey()
const alicePhone = getPublicKey(alicePhoneSk)
const bobSk = generateSecretKey()
const carol = getPublicKey(generateSecretKey())

let clock = Math.floor(Date.now() / 1000)
const now = () => clock
const api = { now }

async function connectAs(url: string, sk: Uint8Array): Promise<Relay> {
  const relay = new Relay(url)
  relay.onauth = async (t) => finalizeEvent({ ...t, created_at: clock }, sk)
  await relay.connect()
  await new Promise((r) => setTimeout(r, 150)) // the node's challenge is answered
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

async function mail(
  node: TestNode,
  to: string,
  text: string,
): Promise<{ wrap: Event; reply: string }> {
  const bob = await Relay.connect(node.url)
  const wrap = nip17.wrapEvent(bobSk, { publicKey: to }, text)
  const reply = await bob.publish(wrap).catch((e: Error) => e.message)
  bob.close()
  return { wrap, reply }
}

describe('inbox on subscription (Status paid master nodes)', () => {
  let node: TestNode
  let subscriptionId: string

  beforeAll(async () => {
    node = await startTestNode(
      {
        'inbox.access': 'subscription',
        'inbox.retentionDays': 365,
        'billing.subscription.price': 30_000,
        'billing.subscription.periodDays': 30,
        'billing.subscription.maxPeriods': 12,
        'billing.subscription.maxPubkeys': 3,
      },
      undefined,
      now,
    )
  })

  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('publishes signed terms at /terms and in NIP-11 fees', async () => {
    const { terms } = await getTerms(node.url, node.key.pubkey)
    expect(terms.services.inbox).toEqual({
      access: 'subscription',
      unit: 'msat',
      price: '30000',
      periodSeconds: 30 * DAY,
      maxPeriods: 12,
      maxPubkeys: 3,
    })
    expect(terms.devTax).toEqual({ rateBps: 2000, recipient: null })
    const info = (await (
      await fetch(node.httpUrl, { headers: { accept: 'application/nostr+json' } })
    ).json()) as {
      limitation: { payment_required: boolean }
      fees: { subscription: unknown; hansa: { terms: unknown } }
      payments_url: string
    }
    expect(info.limitation.payment_required).toBe(true)
    expect(info.fees.subscription).toEqual([{ amount: 30000, unit: 'msat', period: 30 * DAY }])
    expect(info.fees.hansa.terms).toEqual(terms)
    expect(info.payments_url).toBe(`${node.httpUrl}/terms`)
  })

  it('refuses mail for someone without a subscription, and her reads', async () => {
    const { reply } = await mail(node, carol, 'hello?')
    expect(reply).toMatch(/^restricted: [0-9a-f]{12}… has no inbox subscription on this node/)
    const aliceRelay = await connectAs(node.url, aliceSk)
    const res = await read(aliceRelay, { kinds: [1059], '#p': [alice] })
    expect(res.closed).toMatch(/^payment-required: the inbox on this node needs a subscription/)
    aliceRelay.close()
  })

  it('Alice subscribes for 2 periods and receives mail while offline, then reads it', async () => {
    const receipt = await subscribeWith(node.url, { service: 'inbox', periods: 2 }, aliceSk, api)
    subscriptionId = receipt.subscription.id
    expect(receipt.payment).toMatchObject({
      periods: 2,
      amount: '60000',
      devTax: '12000',
      expiresBefore: clock,
      expiresAfter: clock + 60 * DAY,
    })
    expect(receipt.subscription).toMatchObject({ owner: alice, pubkeys: [alice], active: true })

    const { wrap, reply } = await mail(node, alice, 'meet at noon?')
    expect(reply).toBe('')
    clock += 3 * DAY // she is offline for three days
    const aliceRelay = await connectAs(node.url, aliceSk)
    const res = await read(aliceRelay, { kinds: [1059], '#p': [alice] })
    expect(res.closed).toBeUndefined()
    expect(res.events.map((e) => e.id)).toEqual([wrap.id])
    expect(nip17.unwrapEvent(res.events[0]!, aliceSk).content).toBe('meet at noon?')
    aliceRelay.close()
  })

  it('covers her phone key too, which she adds (with its consent) and removes herself', async () => {
    const phoneConsent = (owner: string, node_ = node.key.pubkey) =>
      signSubscriptionConsent(alicePhoneSk, { node: node_, service: 'inbox', owner }, clock)
    // Without the phone key's consent, or with a consent given to another owner or another
    // node, the key is not added: nobody can be tied to someone else's subscription.
    const refusedWith = async (consent: Awaited<ReturnType<typeof phoneConsent>> | undefined) => {
      const body = consent ? { pubkey: alicePhone, consent } : { pubkey: alicePhone }
      const answer = await fetch(`${node.httpUrl}/subscriptions/${subscriptionId}/pubkeys`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: await getToken(
            `${node.httpUrl}/subscriptions/${subscriptionId}/pubkeys`,
            'POST',
            (t) => finalizeEvent({ ...t, created_at: clock }, aliceSk),
            true,
            body,
          ),
        },
        body: JSON.stringify(body),
      })
      return {
        status: answer.status,
        ...((await answer.json()) as { error: { code: string; message: string } }),
      }
    }
    const none = await refusedWith(undefined)
    expect([none.status, none.error.code]).toEqual([403, 'HANSA_SUBSCRIPTION_CONSENT'])
    expect(none.error.message).toMatch(/has not consented to be covered by your subscription/)
    const forBob = await refusedWith(await phoneConsent(getPublicKey(bobSk)))
    expect(forBob.error.message).toMatch(/names owner .*, not /)
    const forAnotherNode = await refusedWith(await phoneConsent(alice, carol))
    expect(forAnotherNode.error.message).toMatch(/names node .*, not /)
    expect((await getSubscriptions(node.url, aliceSk, api))[0]!.pubkeys).toEqual([alice])

    const sub = await addSubscriptionKey(
      node.url,
      subscriptionId,
      { pubkey: alicePhone, consent: await phoneConsent(alice) },
      aliceSk,
      api,
    )
    expect(sub.pubkeys.sort()).toEqual([alice, alicePhone].sort())
    const { wrap } = await mail(node, alicePhone, 'to your phone')
    const phone = await connectAs(node.url, alicePhoneSk)
    expect((await read(phone, { kinds: [1059] })).events.map((e) => e.id)).toEqual([wrap.id])
    phone.close()
    // Bob cannot add himself to her subscription; she removes the phone.
    await expect(
      addSubscriptionKey(
        node.url,
        subscriptionId,
        {
          pubkey: getPublicKey(bobSk),
          consent: await signSubscriptionConsent(
            bobSk,
            { node: node.key.pubkey, service: 'inbox', owner: alice },
            clock,
          ),
        },
        bobSk,
        api,
      ),
    ).rejects.toMatchObject({ code: 'HANSA_BILLING_FORBIDDEN', status: 403 })
    await removeSubscriptionKey(node.url, subscriptionId, alicePhone, aliceSk, api)
    expect((await mail(node, alicePhone, 'again')).reply).toMatch(
      /^restricted: .* has no inbox subscription/,
    )
    expect((await getSubscriptions(node.url, aliceSk, api))[0]!.pubkeys).toEqual([alice])
  })

  it('quotes cover a key not yet covered only with its consent', async () => {
    const request = { service: 'inbox', periods: 1, pubkeys: [carol] }
    await expect(quoteSubscription(node.url, request, aliceSk, api)).rejects.toMatchObject({
      status: 403,
      code: 'HANSA_SUBSCRIPTION_CONSENT',
    })
    const phone = { service: 'inbox', periods: 1, pubkeys: [alicePhone] }
    const consent = await signSubscriptionConsent(
      alicePhoneSk,
      { node: node.key.pubkey, service: 'inbox', owner: alice },
      clock,
    )
    const quoted = await quoteSubscription(
      node.url,
      { ...phone, consents: [consent] },
      aliceSk,
      api,
    )
    expect(quoted.quote.pubkeys).toEqual([alicePhone])
  })

  it('expires: new mail and her reads are refused with the expiry date; stored mail is kept', async () => {
    const stored = await node.store.eventCount()
    const expiresAt = (await getSubscriptions(node.url, aliceSk, api))[0]!.expiresAt
    clock = expiresAt + DAY
    const date = new Date(expiresAt * 1000).toISOString()
    const { reply } = await mail(node, alice, 'are you there?')
    expect(reply).toBe(
      `restricted: the inbox subscription of ${alice.slice(0, 12)}… expired on ${date}; nothing more is accepted for it until it is renewed`,
    )
    const aliceRelay = await connectAs(node.url, aliceSk)
    for (const filter of [{ kinds: [1059], '#p': [alice] }, {}]) {
      const res = await read(aliceRelay, filter)
      expect(res.closed).toBe(
        `payment-required: your inbox subscription (${alice.slice(0, 12)}…) expired on ${date}; what is stored for you is kept until retention ends — renew with POST /subscriptions`,
      )
    }
    // A query that cannot return mail is still answered.
    expect((await read(aliceRelay, { kinds: [1] })).closed).toBeUndefined()
    aliceRelay.close()
    await node.runMaintenance()
    expect(await node.store.eventCount()).toBe(stored)
  })

  it('renews from now (it had lapsed) and reads her kept mail', async () => {
    const receipt = await subscribeWith(node.url, { service: 'inbox', periods: 1 }, aliceSk, api)
    expect(receipt.subscription.id).toBe(subscriptionId)
    expect(receipt.payment.expiresAfter).toBe(clock + 30 * DAY)
    expect(receipt.payment.cumulativePayout).toBe('90000')
    const aliceRelay = await connectAs(node.url, aliceSk)
    const res = await read(aliceRelay, { kinds: [1059], '#p': [alice] })
    expect(res.closed).toBeUndefined()
    expect(res.events.length).toBe(1)
    aliceRelay.close()
    // Renewing before expiry extends from the current expiry, not from now.
    clock += 10 * DAY
    const early = await subscribeWith(node.url, { service: 'inbox', periods: 2 }, aliceSk, api)
    expect(early.payment.expiresAfter).toBe(receipt.payment.expiresAfter + 60 * DAY)
  })

  it('refuses more periods than the terms allow, and a cheque for the wrong amount', async () => {
    await expect(
      subscribeWith(node.url, { service: 'inbox', periods: 13 }, aliceSk, api),
    ).rejects.toThrow('periods must be a whole number from 1 to 12')
    const wrong = subscribeWith(node.url, { service: 'inbox', periods: 1 }, aliceSk, {
      ...api,
      cheque: async () => {
        const { signCheque, ethereumAddress } = await import('@hansa/protocol')
        return signCheque(
          {
            chequebook: ethereumAddress(aliceSk),
            beneficiary: node.key.address,
            cumulativePayout: 150_000n + 1n,
            chainId: 31337,
          },
          aliceSk,
        )
      },
    })
    await expect(wrong).rejects.toBeInstanceOf(NodeRequestError)
    await expect(wrong).rejects.toMatchObject({ code: 'HANSA_PAYMENT_AMOUNT', status: 402 })
  })

  it('books every payment with the dev tax, for the coordinator only', async () => {
    const nodeKey = readKeyFile(join(node.dataDir, 'node.key')).secretKey
    const books = await getBilling(node.url, nodeKey, api)
    expect(books.totals).toMatchObject({
      payments: 3,
      received: '150000',
      income: '120000',
      devTax: '30000',
      devTaxDue: '30000',
    })
    expect(books.subscriptions.active).toEqual({ inbox: 1 })
    await expect(getBilling(node.url, aliceSk, api)).rejects.toMatchObject({ status: 403 })
    const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(/hansa_subscriptions_active\{service="inbox"\} 1/)
    expect(metrics).toMatch(/hansa_billing_dev_tax\{unit="msat"\} 30000/)
  })
})

describe('the ledger rail behind the rail interface', () => {
  it('takes subscriptions by cheque and refuses a proof of any other kind with its code', async () => {
    const rail = new LedgerRail()
    expect(rail.subscriptionPayment).toBe('cheque')
    const refused = await rail
      .verifySubscriptionPayment(
        { quote: 'ab12', service: 'inbox', periods: 1, pubkeys: [alice], amount: 1000n },
        { rail: 'evm', tx: `0x${'11'.repeat(32)}` },
      )
      .then(
        () => null,
        (e: { code: string; status: number; message: string }) => e,
      )
    expect(refused).toMatchObject({ code: 'HANSA_PAYMENT_PROOF', status: 400 })
    expect(refused?.message).toMatch(/pay quote ab12 with a cheque/)
  })
})
