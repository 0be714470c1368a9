// `hansa devnet --sample-orders` and `hansa orders`: the devnet's two coordinators run the order
// book and get sample orders; `hansa orders --json` prints the joint book for scripts, the table
// filters by currency, side and method; make, take and cancel go to the right coordinator,
// and a cancel by someone other than the maker is refused with the reason.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type JointBook, createHansaClient, fileClientStore, setCoordinator } from '@hansa/client'
import { type Event, finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { CLI, hansa } from './helpers.js'

useWebSocketImplementation(WebSocket)

const root = mkdtempSync(join(tmpdir(), 'hansa-orders-cli-'))
const dir = join(root, 'devnet')

describe('hansa orders on a devnet', () => {
  let stop: () => Promise<number | null> = async () => null
  let info: {
    inviteCode: string
    nodes: { name: string; coordinator: string; url: string }[]
    sampleOrders: { coordinator: string; id: string; makerKey: string }[]
  }

  beforeAll(async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'devnet', '--data-dir', dir, '--sample-orders', '--json'],
      {
        env: { ...process.env, HANSA_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    stop = async () => {
      child.kill('SIGINT')
      return exited
    }
    info = await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d
        try {
          resolve(JSON.parse(stdout))
        } catch {
          // not complete yet
        }
      })
      exited.then((code) => reject(new Error(`devnet exited (${code}): ${stderr}`)))
    })
  }, 90_000)
  afterAll(async () => {
    expect(await stop()).toBe(0)
    rmSync(root, { recursive: true, force: true })
  })

  it('starts both coordinators with the order book and sample orders from each', async () => {
    expect(info.sampleOrders.map((o) => o.coordinator)).toEqual([
      'hanseatic',
      'hanseatic',
      'hanseatic',
      'lubeck',
      'lubeck',
      'lubeck',
    ])
    const run = await hansa(['orders', '--devnet', dir, '--json'])
    expect(run.code).toBe(0)
    const book = JSON.parse(run.stdout) as JointBook
    expect(book.orders.map((o) => o.id).sort()).toEqual(info.sampleOrders.map((o) => o.id).sort())
    expect(book.coordinators.map((c) => [c.alias, c.state, c.orders])).toEqual([
      ['hanseatic', 'live', 3],
      ['lubeck', 'live', 3],
    ])
    const lubeckNode = info.nodes.find((n) => n.coordinator === 'lubeck')!
    for (const o of book.orders.filter((x) => x.coordinator.alias === 'lubeck')) {
      expect(o.node.url).toBe(lubeckNode.url)
      expect(o.terms).toMatchObject({ makerFeePpm: 250, takerFeePpm: 1750, network: 'regtest' })
      expect(o.order.platform).toEqual(['hansa', 'lubeck'])
    }
  })

  it("lets a member's node carry another member's orders, and nobody else's", async () => {
    const [hanseatic, , lubeck] = info.nodes
    const fromLubeck = await Relay.connect(lubeck!.url)
    const orders = await new Promise<Event[]>((resolve) => {
      const got: Event[] = []
      const sub = fromLubeck.subscribe([{ kinds: [38383] }], {
        onevent: (e) => got.push(e),
        oneose: () => {
          sub.close()
          resolve(got)
        },
      })
    })
    fromLubeck.close()
    // Replication (docs/replication.md): lubeck's node holds the whole federation's book,
    // each order signed by the node of the coordinator that runs it.
    expect(orders.length).toBe(6)
    const own = orders.filter((o) => o.pubkey === lubeck!.pubkey)
    expect(own.length).toBe(3)
    const toHanseatic = await Relay.connect(hanseatic!.url)
    // Hanseatic already holds it by replication; a copy passed on is accepted as a duplicate.
    await expect(toHanseatic.publish(own[0]!)).resolves.toMatch(/^(duplicate: .*)?$/)
    const forged = finalizeEvent(
      {
        kind: 38383,
        created_at: Math.floor(Date.now() / 1000),
        tags: own[0]!.tags,
        content: '',
      },
      generateSecretKey(),
    )
    await expect(toHanseatic.publish(forged)).rejects.toThrow(/^blocked: orders \(kind 38383\)/)
    toHanseatic.close()
  })

  it("is the HansaClient's joint book: the joined federation, less what the trust list turns off", async () => {
    const client = createHansaClient({ discv5: { enabled: false } })
    await client.join({ inviteCode: info.inviteCode })
    const book = await client.orders.list()
    expect(new Set(book.orders.map((o) => o.coordinator.alias))).toEqual(
      new Set(['hanseatic', 'lubeck']),
    )
    const lubeck = book.coordinators.find((c) => c.alias === 'lubeck')!
    client.updateTrust((list) => setCoordinator(list, lubeck.pubkey, 'disabled'))
    const without = await client.orders.list()
    expect(new Set(without.orders.map((o) => o.coordinator.alias))).toEqual(new Set(['hanseatic']))
    expect(without.coordinators.find((c) => c.alias === 'lubeck')?.state).toBe('disabled')
    client.close()

    // `hansa orders` with no flag reads the federation the user joined, and her trust list.
    const config = join(root, 'client.json')
    const saved = createHansaClient({ discv5: { enabled: false }, store: fileClientStore(config) })
    await saved.join({ inviteCode: info.inviteCode })
    saved.updateTrust((list) => setCoordinator(list, lubeck.pubkey, 'disabled'))
    const run = await hansa(['orders', '--json'], { HANSA_CLIENT_CONFIG: config })
    expect(run.code).toBe(0)
    const fromCli = JSON.parse(run.stdout) as JointBook
    expect(new Set(fromCli.orders.map((o) => o.coordinator.alias))).toEqual(new Set(['hanseatic']))
  })

  it('shows a table filtered by currency, side and payment method', async () => {
    const run = await hansa([
      'orders',
      '--devnet',
      dir,
      '--currency',
      'eur',
      '--side',
      'buy',
      '--method',
      'sepa',
    ])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^2 orders from hanseatic, lubeck:/)
    for (const column of [
      'side',
      'amount',
      'currency',
      'premium',
      'payment methods',
      'coordinator',
      'fees (maker / taker)',
    ]) {
      expect(run.stdout).toContain(column)
    }
    expect(run.stdout).toContain('500 (750000 sats)')
    expect(run.stdout).toContain('50–300')
    expect(run.stdout).toContain('0.025 % / 0.175 %')
    expect(run.stdout).not.toContain('USD')
  })

  it('makes, takes and cancels through the right coordinator', async () => {
    const me = join(root, 'me.key')
    const you = join(root, 'you.key')
    expect((await hansa(['keygen', '--out', me])).code).toBe(0)
    expect((await hansa(['keygen', '--out', you])).code).toBe(0)
    const made = await hansa([
      'orders',
      'make',
      '--devnet',
      dir,
      '--key',
      me,
      '--coordinator',
      'hanseatic',
      '--side',
      'sell',
      '--currency',
      'USD',
      '--fiat',
      '70',
      '--sats',
      '100000',
      '--method',
      'Zelle',
      '--json',
    ])
    expect(made.code).toBe(0)
    const order = JSON.parse(made.stdout) as { id: string; coordinator: { alias: string } }
    expect(order.coordinator.alias).toBe('hanseatic')

    const refused = await hansa(['orders', 'cancel', order.id, '--devnet', dir, '--key', you])
    expect([refused.code, refused.stderr]).toEqual([
      1,
      'hansa: only the maker may cancel an order\n',
    ])

    const sample = info.sampleOrders.filter((o) => o.coordinator === 'lubeck')[1]! // 25–250 USD at market
    const taken = await hansa([
      'orders',
      'take',
      sample.id,
      '--devnet',
      dir,
      '--key',
      you,
      '--fiat',
      '100',
      '--sats',
      '150000',
    ])
    expect(taken.code).toBe(0)
    expect(taken.stdout).toMatch(new RegExp(`^You took order ${sample.id} on lubeck's book`))

    const canceled = await hansa(['orders', 'cancel', order.id, '--devnet', dir, '--key', me])
    expect(canceled.stdout).toBe(`Order ${order.id} on hanseatic's book is now canceled.\n`)
    const after = JSON.parse(
      (await hansa(['orders', '--devnet', dir, '--json'])).stdout,
    ) as JointBook
    expect(after.orders.map((o) => o.id)).not.toContain(order.id)
    expect(after.orders.map((o) => o.id)).not.toContain(sample.id)
    expect(after.orders).toHaveLength(5)
  })
})
