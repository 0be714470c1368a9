// The user's journey on the SDK, against a `hansa devnet` (three node processes, two
// coordinators) grown by two more node processes:
//   node-4   lubeck's second node, added by a proposal, then restarted on another port: the
//            manifest still names its old URL, so only its ENR (Discovery v5) says where it is
//   liar     a server on node-4's old URL replaying node-4's signed terms: it cannot prove the key
//   impostor a real node following the federation (valid ENR, valid terms) whose key no
//            manifest lists, announced on discv5
// The client is given nothing but the invite code. Then: Alice subscribes to inbox nodes
// (subscription and metered, paid with cheques), Bob sends to offline Alice, Alice reads; the
// same with Alice's first node killed mid-way (one-shot reads and the live mode fail over to
// another); the trust list overriding the default choice; and a removed coordinator's nodes
// dropped once the manifest changes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type HansaClient,
  type InboxMessage,
  type ListNodesResult,
  type NodeReport,
  type WatchStatus,
  addCustomNode,
  createHansaClient,
  fileClientStore,
  memoryClientStore,
  setCoordinator,
} from '@hansa/client'
import { type Devnet, loadGuardian, proposeChange, signProposal, startDevnet } from '@hansa/cli'
import { type TestNode, startTestNode } from '../../node/test/helpers.js'
import { nodeProofTemplate } from '@hansa/protocol'
import { type NodeProcess, getJson, startNodeProcess, waitFor } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'hansa-journey-'))
const now = () => Math.floor(Date.now() / 1000)

const writeConfig = (dir: string, config: object) => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
}

/** A server on `port` that replays another node's signed terms and proves some other key. */
async function startLiar(port: number, terms: unknown): Promise<Server> {
  const key = generateSecretKey()
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x')
    response.setHeader('content-type', 'application/json')
    if (url.pathname === '/terms') return response.end(JSON.stringify(terms))
    if (url.pathname === '/proof') {
      const proof = finalizeEvent(
        nodeProofTemplate(
          url.searchParams.get('challenge') ?? '',
          url.searchParams.get('relay') ?? '',
          now(),
        ),
        key,
      )
      return response.end(JSON.stringify({ proof }))
    }
    response.statusCode = 404
    response.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return server
}

const byUrl = (result: ListNodesResult, url: string) => result.nodes.find((n) => n.url === url)

describe('the client journey against a devnet', () => {
  let devnet: Devnet
  let node4: NodeProcess
  let node4OldUrl = ''
  let impostor: NodeProcess
  let liar: Server
  let own: TestNode
  let alice: HansaClient
  let bob: HansaClient
  let listing: ListNodesResult
  const url = (name: string) => devnet.info.nodes.find((n) => n.name === name)!.url
  const guardian = (i: number) => loadGuardian({ dataDir: devnet.info.guardians[i]!.dir })
  const quick = { discv5: { timeoutMs: 1500 }, timeouts: { requestMs: 1500, connectMs: 1000 } }

  beforeAll(async () => {
    const dataDir = join(root, 'devnet')
    const discovery = { lookupIntervalSeconds: 1 }
    writeConfig(join(dataDir, 'nodes', 'node-1'), { inbox: { access: 'subscription' }, discovery })
    writeConfig(join(dataDir, 'nodes', 'node-2'), {
      inbox: { access: 'subscription' },
      billing: { subscription: { price: 20000 }, devTaxRate: 0.05 },
      discovery,
    })
    writeConfig(join(dataDir, 'nodes', 'node-3'), {
      inbox: { access: 'metered' },
      billing: { metered: { paymentThreshold: 60 } },
      discovery,
    })
    devnet = await startDevnet({ dataDir, syncIntervalSeconds: 1 })
    const env = {
      HANSA_FEDERATION_INVITE_CODE: devnet.info.inviteCode,
      HANSA_INBOX_ACCESS: 'subscription',
      HANSA_DISCOVERY_LOOKUP_INTERVAL_SECONDS: '1',
    }
    // node-4: lubeck's second node, added by ana's proposal and bo's signature.
    const node4Dir = join(root, 'node-4')
    node4 = await startNodeProcess(node4Dir, env)
    node4OldUrl = node4.url
    const proposal = await proposeChange({
      nodeUrl: url('node-1'),
      guardian: guardian(0),
      edits: { addNode: [`lubeck=${node4.url}`] },
      now: now(),
    })
    await signProposal({ nodeUrl: url('node-1'), guardian: guardian(1), proposal: proposal.hash })
    await waitFor(
      () => getJson(`${node4.httpUrl}/federation`),
      (f) => f.status === 'member',
    )
    const node4Terms = await getJson(`${node4.httpUrl}/terms`)
    // It moves: the same key and data, another port. The manifest still names the old URL.
    await node4.stop()
    node4 = await startNodeProcess(node4Dir, env)
    liar = await startLiar(Number(new URL(node4OldUrl).port), node4Terms)
    // The impostor follows the federation but no manifest lists its key.
    impostor = await startNodeProcess(join(root, 'impostor'), {
      ...env,
      HANSA_DISCOVERY_BOOTNODES: (
        (await getJson(`${devnet.info.nodes[0]!.url.replace('ws', 'http')}/discovery`)) as {
          enr: string
        }
      ).enr,
    })
    own = await startTestNode({ 'discovery.enabled': false }, join(root, 'own'))
    alice = createHansaClient({
      secretKey: generateSecretKey(),
      store: fileClientStore(join(root, 'alice', 'client.json')),
      ...quick,
    })
    bob = createHansaClient({
      secretKey: generateSecretKey(),
      store: memoryClientStore(),
      ...quick,
    })
  }, 120_000)

  afterAll(async () => {
    liar?.close()
    await own?.stop()
    await Promise.all([node4?.stop(), impostor?.stop(), devnet?.stop()])
    rmSync(root, { recursive: true, force: true })
  }, 60_000)

  it('finds every node from the invite code alone, one of them only through discv5', async () => {
    const joined = await alice.join({ inviteCode: devnet.info.inviteCode })
    expect(joined).toMatchObject({
      federationId: devnet.info.federationId,
      version: 2,
      coordinators: [
        { alias: 'hanseatic', nodes: 2 },
        { alias: 'lubeck', nodes: 2 },
      ],
    })
    // node-4's new address reaches the others' discv5 tables within a lookup interval or two.
    listing = await waitFor(
      () => alice.listNodes(),
      (r) =>
        byUrl(r, node4.url)?.status === 'trusted' && r.nodes.some((n) => n.url === impostor.url),
      20_000,
    )
    const trusted = listing.nodes.filter((n) => n.status === 'trusted')
    expect(trusted.map((n) => n.url).sort()).toEqual(
      [url('node-1'), url('node-2'), url('node-3'), node4.url].sort(),
    )
    expect(byUrl(listing, node4.url)).toMatchObject({
      sources: ['discv5'],
      coordinator: { alias: 'lubeck' },
      services: expect.arrayContaining(['inbox']),
    })
    expect(byUrl(listing, url('node-1'))!.sources).toEqual(
      expect.arrayContaining(['manifest', 'invite', 'discv5']),
    )
    expect(listing.discv5).toMatchObject({ enabled: true })
    expect(listing.discv5.federation).toBeGreaterThanOrEqual(5)
  })

  it('rejects the impostor announced on discv5, and says why', () => {
    expect(byUrl(listing, impostor.url)).toMatchObject({
      status: 'rejected',
      sources: ['discv5'],
      reason: expect.stringMatching(
        /^key [0-9a-f]{12}… is not in manifest version 2: not a member$/,
      ),
    })
  })

  it("rejects a server on node-4's old URL that replays its terms but cannot prove its key", () => {
    const node4Key = byUrl(listing, node4.url)!.pubkey!
    expect(byUrl(listing, node4OldUrl)).toMatchObject({
      status: 'rejected',
      sources: expect.arrayContaining(['manifest']),
      reason: expect.stringContaining(`key proof failed: the proof is signed by`),
    })
    expect(byUrl(listing, node4OldUrl)!.reason).toContain(
      `not by the claimed key ${node4Key.slice(0, 12)}…`,
    )
  })

  const received: InboxMessage[] = []

  it('the journey: Alice subscribes, Bob sends to offline Alice, Alice reads', async () => {
    // Her first node is node-4; then the cheapest others (node-2, then node-3, which meters).
    const first = await alice.subscribe({ service: 'inbox', periods: 2, node: node4.url })
    expect(first.subscriptions[0]).toMatchObject({ url: node4.url, access: 'subscription' })
    expect(first.subscriptions[0]!.receipt!.payment).toMatchObject({ periods: 2, amount: '60000' })
    const more = await alice.subscribe({ service: 'inbox', policy: 'cheapest', count: 2 })
    expect(more.subscriptions.map((s) => [s.url, s.access])).toEqual([
      [url('node-2'), 'subscription'],
      [url('node-1'), 'subscription'],
    ])
    const metered = await alice.subscribe({ service: 'inbox', node: url('node-3') })
    expect(metered.subscriptions[0]!.access).toBe('metered')
    expect(metered.inboxRelays).toEqual([node4.url, url('node-2'), url('node-1'), url('node-3')])
    expect(metered.published!.published.every((p) => p.ok)).toBe(true)

    await bob.join({ inviteCode: devnet.info.inviteCode })
    await bob.listNodes()
    const sent = await bob.inbox.send({ recipient: alice.pubkey!, message: 'hello Alice' })
    expect(sent.recipientRelays).toEqual(metered.inboxRelays)
    expect(
      sent.delivered
        .filter((d) => d.ok)
        .map((d) => d.url)
        .sort(),
    ).toEqual([...metered.inboxRelays!].sort())
    // Alice comes online and reads from her first node.
    const read = await alice.inbox.read()
    expect(read.servedBy).toEqual([node4.url])
    expect(read.messages).toMatchObject([{ from: bob.pubkey, content: 'hello Alice' }])
    received.push(...read.messages)
  })

  it('pays the metered node with cheques as the use adds up', async () => {
    const node3Key = byUrl(listing, url('node-3'))!.pubkey!
    for (let i = 0; i < 3; i++) {
      await bob.inbox.send({
        recipient: alice.pubkey!,
        message: `metered ${i}`,
        relays: [url('node-3')],
      })
    }
    const payer = bob.store.load().payers[node3Key]!
    expect(BigInt(payer.paid)).toBeGreaterThan(0n)
    const all = await alice.inbox.read({ relays: [url('node-3')] })
    expect(all.messages.map((m) => m.content)).toEqual(
      expect.arrayContaining(['hello Alice', 'metered 0', 'metered 1', 'metered 2']),
    )
  })

  it("the same journey with Alice's first node killed mid-way: another serves her", async () => {
    const statuses: WatchStatus[] = []
    const live: InboxMessage[] = []
    const watch = alice.inbox.watch({
      onMessage: (m) => live.push(m),
      onStatus: (s) => statuses.push(s),
    })
    await waitFor(
      async () => statuses,
      (s) => s.some((x) => x.kind === 'serving'),
    )
    expect(watch.current()).toBe(node4.url)
    const killedAt = performance.now()
    node4.child.kill('SIGKILL')
    await waitFor(
      async () => statuses,
      (s) => s.some((x) => x.kind === 'serving' && x.url !== node4.url),
      5000,
    )
    const takeover = statuses.find((x) => x.kind === 'serving' && x.url !== node4.url)!
    expect(takeover.kind === 'serving' && takeover.at - killedAt).toBeLessThan(2000)
    expect(watch.current()).toBe(url('node-2'))

    const sent = await bob.inbox.send({ recipient: alice.pubkey!, message: 'while node-4 is down' })
    expect(sent.delivered.find((d) => d.url === node4.url)).toMatchObject({ ok: false })
    expect(sent.delivered.filter((d) => d.ok).length).toBe(3)
    await waitFor(
      async () => live,
      (l) => l.some((m) => m.content === 'while node-4 is down'),
      5000,
    )
    watch.stop()
    await watch.done

    // A one-shot read fails over too (a fresh client: nothing marked down yet).
    const fresh = createHansaClient({
      secretKey: alice.env.secretKey!,
      store: fileClientStore(join(root, 'alice', 'client.json')),
      ...quick,
    })
    const started = performance.now()
    const read = await fresh.inbox.read()
    expect(performance.now() - started).toBeLessThan(2000)
    expect(read.attempts).toMatchObject([{ url: node4.url }])
    expect(read.servedBy).toEqual([url('node-2')])
    expect(read.messages.map((m) => m.content)).toEqual(
      expect.arrayContaining(['hello Alice', 'while node-4 is down']),
    )
  })

  it("the user's trust list overrides the default choice", async () => {
    const hanseatic = devnet.info.coordinators.find((c) => c.alias === 'hanseatic')!.pubkey
    alice.updateTrust((t) => setCoordinator(t, hanseatic, 'disabled'))
    const disabled = alice.runtime.reports.filter((r) => r.coordinator?.alias === 'hanseatic')
    expect(disabled.map((r) => r.status)).toEqual(['disabled', 'disabled'])
    for (let i = 0; i < 20; i++) {
      const { node } = await alice.choose({ service: 'inbox' })
      expect(node.coordinator?.alias).toBe('lubeck')
    }
    // Her own server, outside the federation, comes first once added.
    alice.updateTrust((t) => addCustomNode(t, { url: own.url }))
    const listed = await alice.listNodes({ discv5: false })
    expect(byUrl(listed, own.url)).toMatchObject({ status: 'custom', sources: ['custom'] })
    for (let i = 0; i < 10; i++) {
      expect((await alice.choose({ service: 'inbox' })).node.url).toBe(own.url)
    }
    // It is kept in her client file.
    expect(fileClientStore(join(root, 'alice', 'client.json')).load().trust).toMatchObject({
      coordinators: { [hanseatic]: 'disabled' },
      customNodes: [{ url: own.url }],
    })
  })

  it("drops a removed coordinator's nodes once the manifest changes", async () => {
    await bob.listNodes({ discv5: false })
    const proposal = await proposeChange({
      nodeUrl: url('node-1'),
      guardian: guardian(0),
      edits: { removeCoordinator: ['lubeck'] },
      now: now(),
    })
    await signProposal({ nodeUrl: url('node-1'), guardian: guardian(1), proposal: proposal.hash })
    const refreshed = await bob.refresh()
    expect(refreshed).toMatchObject({ changed: true, previousVersion: 2, version: 3 })
    expect(refreshed.dropped.map((n: NodeReport) => n.url)).toEqual([url('node-3')])
    expect(bob.runtime.reports.find((r) => r.url === url('node-3'))).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/is not in manifest version 3: not a member$/),
    })
    for (let i = 0; i < 20; i++) {
      const { node } = await bob.choose({ service: 'inbox' })
      expect(node.coordinator?.alias).toBe('hanseatic')
    }
  })
})
