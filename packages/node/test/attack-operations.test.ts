// Attacks on a running node's operations surface. A stranger scrapes /metrics to learn who the
// node's paying users are and what they owe (the per-peer series are for the coordinator's
// bearer token only); scrapes cost no table scan (the event count is a running count, exact
// through inserts and deletions), and one address gets at most 10 a second; behind a reverse proxy, X-Forwarded-For is
// believed only from `trustedProxies`, so a client cannot forge its way to a fresh budget,
// while clients behind a trusted proxy are limited each on its own; IPv6 clients are limited
// per /64, so rotating through one's prefix buys nothing.
import * as nip17 from 'nostr-tools/nip17'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { RawClient, type TestNode, removeDir, startTestNode } from './helpers.js'

const scrape = async (node: TestNode, token?: string) => {
  const response = await fetch(`${node.httpUrl}/metrics`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: response.status, text: await response.text() }
}

/** Sends events over one connection and waits for each OK. */
async function publish(node: TestNode, events: Event[], sk?: Uint8Array): Promise<void> {
  const client = await RawClient.connect(node.url)
  if (sk) {
    const [, challenge] = (await client.next((m) => m[0] === 'AUTH')) as [string, string]
    const auth = finalizeEvent(
      {
        kind: 22242,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['relay', node.url],
          ['challenge', challenge],
        ],
        content: '',
      },
      sk,
    )
    client.send(['AUTH', auth])
    await client.next((m) => m[0] === 'OK' && m[1] === auth.id)
  }
  for (const e of events) {
    client.send(['EVENT', e])
    const ok = await client.next((m) => m[0] === 'OK' && m[1] === e.id)
    expect(ok[2]).toBe(true)
  }
  client.close()
}

describe('/metrics against a stranger', () => {
  let node: TestNode
  const peerSk = generateSecretKey()
  const peer = getPublicKey(peerSk)

  beforeAll(async () => {
    node = await startTestNode({
      'inbox.access': 'metered',
      'billing.metered.swap': 'soft',
      'billing.metered.eventPrice': 20,
      metricsToken: 'coordinator-only',
    })
    // A paying user leaves mail: the node now keeps a SWAP balance for her key.
    const wraps = [0, 1, 2].map(
      (i) => nip17.wrapEvent(peerSk, { publicKey: peer }, `note ${i}`) as unknown as Event,
    )
    await publish(node, wraps, peerSk)
  })
  afterAll(async () => {
    await node?.stop()
    if (node) removeDir(node.dataDir)
  })

  it('shows no peer key or balance to a scrape without the token', async () => {
    const open = await scrape(node)
    expect(open.status).toBe(200)
    expect(open.text).not.toContain(peer)
    expect(open.text).not.toMatch(/peer="/)
    expect(open.text).not.toContain('hansa_swap_balance')
    // The totals are still there, well formed.
    expect(open.text).toMatch(/^hansa_connections \d+$/m)
    expect(open.text).toMatch(/^hansa_events_received_total \d+$/m)
    for (const line of open.text.split('\n').filter((l) => l.startsWith('# TYPE '))) {
      const name = line.split(' ')[2]!
      expect(open.text, `${name} keeps a sample`).toMatch(new RegExp(`^${name}(_\\w+)?[{ ]`, 'm'))
    }
  })

  it('shows them with the configured bearer token, and refuses a wrong one', async () => {
    const coordinator = await scrape(node, 'coordinator-only')
    expect(coordinator.text).toMatch(
      new RegExp(`hansa_swap_balance\\{peer="${peer}",unit="msat"\\} \\d+`),
    )
    const guess = await scrape(node, 'coordinator-onlx')
    expect(guess.status).toBe(401)
    expect(JSON.parse(guess.text).error.code).toBe('HANSA_METRICS_TOKEN')
  })

  it('counts stored events without a table scan, exactly through stores and deletions', async () => {
    const count = async () =>
      Number(/^hansa_stored_events (\d+)$/m.exec((await scrape(node)).text)![1])
    const before = await count()
    const sk = generateSecretKey()
    const notes = [0, 1, 2, 3].map((i) =>
      finalizeEvent({ kind: 1, created_at: 1_700_000_000 + i, tags: [], content: `n${i}` }, sk),
    )
    await publish(node, notes)
    expect(await count()).toBe(before + 4)
    const deletion = finalizeEvent(
      { kind: 5, created_at: 1_700_000_100, tags: [['e', notes[0]!.id]], content: '' },
      sk,
    )
    await publish(node, [deletion])
    // One note gone, the kind-5 itself kept.
    expect(await count()).toBe(before + 4)
    const total = await node.store.count([{}], {
      now: Math.floor(Date.now() / 1000),
      privateKinds: [],
      readerPubkeys: [],
    })
    expect(await count()).toBe(total)
  })
})

describe('per-address limits behind a reverse proxy', () => {
  let direct: TestNode
  let proxied: TestNode

  beforeAll(async () => {
    ;[direct, proxied] = await Promise.all([
      startTestNode({ 'limits.maxConnectionsPerIp': 2 }),
      startTestNode({ trustedProxies: '127.0.0.1,::1', 'limits.maxConnectionsPerIp': 2 }),
    ])
  })
  afterAll(async () => {
    await Promise.all([direct?.stop(), proxied?.stop()])
    for (const n of [direct, proxied]) if (n) removeDir(n.dataDir)
  })

  // POST /federation/sync is limited to 30 a minute per address, in bursts of 10.
  const sync = async (node: TestNode, forwardedFor: string) =>
    (
      await fetch(`${node.httpUrl}/federation/sync`, {
        method: 'POST',
        headers: { 'x-forwarded-for': forwardedFor },
      })
    ).status

  const burst = async (node: TestNode, forwardedFor: (i: number) => string) => {
    const statuses: number[] = []
    for (let i = 0; i < 11; i++) statuses.push(await sync(node, forwardedFor(i)))
    return statuses
  }

  it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    // A stranger names a new address in each request: the node counts its socket's.
    const statuses = await burst(direct, (i) => `198.51.100.${i}`)
    expect(statuses.slice(0, 10)).toEqual(new Array(10).fill(200))
    expect(statuses[10]).toBe(429)
  })

  it("limits each client behind a trusted proxy on its own, not the proxy's one budget", async () => {
    const one = await burst(proxied, () => '203.0.113.7')
    expect(one[10]).toBe(429)
    expect(await sync(proxied, '203.0.113.8')).toBe(200)
    // The forwarded chain is walked from the right past trusted hops only: a client cannot
    // prepend an address of its choice to escape its budget.
    expect(await sync(proxied, '192.0.2.1, 203.0.113.7')).toBe(429)
  })

  it('refuses a client that loops on /metrics past its budget, and no one else', async () => {
    const scrapeAs = (forwardedFor: string) =>
      fetch(`${proxied.httpUrl}/metrics`, { headers: { 'x-forwarded-for': forwardedFor } })
    // 20 in a burst, then 10 a second: 40 scrapes in a row cannot all be served.
    const started = performance.now()
    const statuses: number[] = []
    let refusal: { error: { code: string; message: string } } | undefined
    for (let i = 0; i < 40; i++) {
      const response = await scrapeAs('203.0.113.50')
      statuses.push(response.status)
      if (response.status === 429) refusal ??= await response.json()
      else await response.text()
    }
    const seconds = (performance.now() - started) / 1000
    const served = statuses.filter((s) => s === 200).length
    expect(statuses.slice(0, 20)).toEqual(new Array(20).fill(200))
    expect(served).toBeLessThanOrEqual(20 + Math.ceil(seconds * 10))
    expect(statuses).toContain(429)
    expect(refusal?.error.code).toBe('HANSA_RATE_LIMITED')
    expect(refusal?.error.message).toMatch(/^rate-limited: /)
    expect((await scrapeAs('203.0.113.51')).status).toBe(200)
  })

  it('limits IPv6 clients per /64', async () => {
    const prefix = await burst(proxied, (i) => `2001:db8:aa:bb::${(i + 1).toString(16)}`)
    expect(prefix[10]).toBe(429)
    expect(await sync(proxied, '2001:db8:aa:bb:ffff:1:2:3')).toBe(429)
    expect(await sync(proxied, '2001:db8:aa:bc::1')).toBe(200)
  })

  /** A WebSocket "from" `forwardedFor`: 'open' when the node serves it, else how it was refused. */
  const connect = async (node: TestNode, forwardedFor: string): Promise<string> => {
    const ws = new WebSocket(node.url, { headers: { 'x-forwarded-for': forwardedFor } })
    sockets.push(ws)
    return new Promise((resolve) => {
      const notices: string[] = []
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as unknown[]
        if (m[0] === 'NOTICE') notices.push(m[1] as string)
        if (m[0] === 'EOSE') resolve('open')
      })
      ws.on('open', () => ws.send(JSON.stringify(['REQ', 'probe', { limit: 1 }])))
      ws.on('close', (code) => resolve(`${code} ${notices.join(' ')}`))
      ws.on('error', () => {})
    })
  }
  const sockets: WebSocket[] = []
  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate()
  })

  it('counts WebSocket connections per client behind a trusted proxy, per /64 for IPv6', async () => {
    expect(await connect(proxied, '2001:db8:1:2::1')).toBe('open')
    expect(await connect(proxied, '2001:db8:1:2::2')).toBe('open')
    // A third address of the same /64 is the same client.
    expect(await connect(proxied, '2001:db8:1:2:ffff::3')).toBe(
      '1008 rate-limited: too many connections from your address',
    )
    expect(await connect(proxied, '2001:db8:1:3::1')).toBe('open')
    expect(await connect(proxied, '198.51.100.1')).toBe('open')
  })

  it('ignores X-Forwarded-For on WebSocket upgrades from anyone else', async () => {
    expect(await connect(direct, '198.51.100.1')).toBe('open')
    expect(await connect(direct, '198.51.100.2')).toBe('open')
    expect(await connect(direct, '198.51.100.3')).toBe(
      '1008 rate-limited: too many connections from your address',
    )
  })
})
