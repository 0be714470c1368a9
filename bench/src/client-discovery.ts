// client-discovery: how fast the SDK goes from an invite code to a verified list of nodes, and
// how fast it fails over when a node dies. Starts --nodes `hansa node start` processes on
// loopback (one federation: a genesis signed by two throwaway guardian keys, three
// coordinators, free inbox), waits until their Discovery v5 tables hold each other, then:
//
//   discovery  --runs times, a fresh client (memory store) given an invite code naming ONE node:
//              join (fetch + verify the chain) and listNodes (invite, manifest and a discv5
//              crawl; terms and a key proof from every candidate) until every node is trusted;
//              the same without discv5, for comparison; and --runs times in a fresh process
//              (`--cold-child`), as `hansa join` + `hansa nodes` meet it: modules to load, JIT
//              and crypto tables cold
//   failover   Alice subscribes to --inbox nodes and watches her inbox live; the node serving her
//              is killed (SIGKILL) --kills times in a row: the time from the kill to the next node
//              serving her (stored mail in). Then a frozen node (SIGSTOP): the time to notice it
//              through the heartbeat and move on. And a one-shot read by a fresh client whose
//              first inbox node is dead: the whole read, failed attempt included.
//
// Prints one JSON line on stdout (progress on stderr). Nodes and client share this machine's
// cores, as on a laptop.
//
//   npm run -s bench:discovery -- [--nodes 10] [--runs 10] [--kills 3] [--inbox 5]
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import {
  type HansaClient,
  type WatchStatus,
  createHansaClient,
  memoryClientStore,
} from '@hansa/client'
import {
  type Manifest,
  encodeInviteCode,
  federationId as federationIdOf,
  signManifest,
} from '@hansa/protocol'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { type SpawnedNode, spawnNode } from './node-process.js'
import { summarize } from './percentiles.js'
import { benchArgs } from './bench-args.js'

const values = benchArgs(import.meta.url, {
  nodes: { type: 'string', default: '10' },
  runs: { type: 'string', default: '10' },
  kills: { type: 'string', default: '3' },
  inbox: { type: 'string', default: '5' },
  'cold-child': { type: 'string' },
})
const NODES = Number(values.nodes)
const RUNS = Number(values.runs)
const KILLS = Number(values.kills)
const INBOX = Math.min(Number(values.inbox), NODES)

const say = (line: string) => process.stderr.write(`${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const now = () => Math.floor(Date.now() / 1000)
const round = (x: number) => Math.round(x * 10) / 10

// Every node: the default discovery refresh (30 s), quiet logs, one verifier thread (ten processes, two cores).
Object.assign(process.env, {
  HANSA_DISCOVERY_LOOKUP_INTERVAL_SECONDS: '30',
  HANSA_FEDERATION_SYNC_INTERVAL_SECONDS: '5',
  HANSA_VERIFY_THREADS: '1',
  HANSA_INBOX_ACCESS: 'free',
})

/** In a fresh process: join the invite code, list the nodes; one JSON line of timings. */
async function coldChild(inviteCode: string) {
  const t0 = performance.now()
  const c = createHansaClient({ store: memoryClientStore() })
  await c.join({ inviteCode })
  const listed = await c.listNodes()
  process.stdout.write(
    `${JSON.stringify({ totalMs: performance.now() - t0, trusted: listed.counts.trusted })}\n`,
  )
}

const runCold = (inviteCode: string) =>
  new Promise<{ totalMs: number; trusted: number }>((resolve, reject) =>
    execFile(
      process.execPath,
      [fileURLToPath(import.meta.url), '--cold-child', inviteCode],
      (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))),
    ),
  )

async function main() {
  // Each kill needs an inbox node to take over, and the frozen-node run after them two more.
  if (KILLS > INBOX - 2) {
    throw new Error(
      `--kills ${KILLS} needs --inbox ${KILLS + 2} or more (and as many --nodes); got --inbox ${INBOX}`,
    )
  }
  say(`starting ${NODES} nodes…`)
  // Each node's one-time setup token: a standalone node adopts a genesis chain only from
  // whoever presents it (docs/security.md), as the ceremony's draft does.
  const setupTokens = Array.from(
    { length: NODES },
    () => `hst_${randomBytes(18).toString('base64url')}`,
  )
  const nodes: SpawnedNode[] = await Promise.all(
    setupTokens.map((token) =>
      spawnNode({ log: () => {}, env: { HANSA_FEDERATION_SETUP_TOKEN: token } }),
    ),
  )
  const alive = new Set(nodes)
  let stopWatch = () => {}
  try {
    // One federation: three coordinators share the nodes; two guardians sign the genesis.
    const info = await Promise.all(
      nodes.map(
        async (n) =>
          (await (await fetch(`${n.httpUrl}/federation`)).json()) as {
            node: { pubkey: string }
          },
      ),
    )
    const guardians = [generateSecretKey(), generateSecretKey()]
    const coordinators = ['hanseatic', 'lubeck', 'bruges'].map((alias) => ({
      alias,
      key: generateSecretKey(),
    }))
    const genesis: Manifest = {
      hansa: 1,
      name: 'Bench League',
      version: 1,
      previous: null,
      issuedAt: now(),
      expiresAt: now() + 30 * 86_400,
      guardians: guardians.map((g, i) => ({ pubkey: getPublicKey(g), name: `g${i}` })),
      threshold: 2,
      coordinators: coordinators.map((c, ci) => ({
        pubkey: getPublicKey(c.key),
        alias: c.alias,
        description: '',
        contact: {},
        nodes: nodes
          .map((n, i) => ({ n, i }))
          .filter(({ i }) => i % coordinators.length === ci)
          .map(({ n, i }) => ({
            pubkey: info[i]!.node.pubkey,
            urls: [n.url],
            services: ['inbox'],
          })),
      })),
      services: { inbox: { retentionDays: 30 } },
      devFund: { recipient: getPublicKey(guardians[0]!), suggestedRate: 0.2 },
    }
    const chain = [
      { manifest: genesis, signatures: guardians.map((g) => signManifest(genesis, g)) },
    ]
    await Promise.all(
      nodes.map(async (n, i) => {
        const response = await fetch(`${n.httpUrl}/federation/chain`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'hansa-setup-token': setupTokens[i]! },
          body: JSON.stringify(chain),
        })
        if (!response.ok) {
          throw new Error(
            `${n.httpUrl} refused the genesis: ${response.status} ${await response.text()}`,
          )
        }
      }),
    )
    const inviteCode = encodeInviteCode({
      federationId: federationIdOf(genesis),
      urls: [nodes[0]!.url],
    })
    say('waiting for the discv5 tables to fill…')
    const tablesFrom = performance.now()
    for (;;) {
      const peers = await Promise.all(
        nodes.map(
          async (n) =>
            ((await (await fetch(`${n.httpUrl}/discovery`)).json()) as { peers: number }).peers,
        ),
      )
      if (peers.every((p) => p >= NODES - 1)) break
      if (performance.now() - tablesFrom > 60_000) throw new Error(`tables: ${peers.join(', ')}`)
      await sleep(250)
    }
    const tablesMs = performance.now() - tablesFrom
    // The nodes' own first lookups (after the genesis) are still running: let them finish, so
    // the runs below measure the client, not ten processes' start-up on two cores.
    await sleep(3000)

    // --- invite code → verified list ------------------------------------------------------
    const client = () =>
      createHansaClient({ secretKey: generateSecretKey(), store: memoryClientStore() })
    const measure = async (discv5: boolean) => {
      const totals: number[] = []
      const parts = { join: [] as number[], list: [] as number[], crawl: [] as number[] }
      for (let r = 0; r < RUNS; r++) {
        const c = client()
        const t0 = performance.now()
        await c.join({ inviteCode })
        const t1 = performance.now()
        const listed = await c.listNodes({ discv5 })
        const t2 = performance.now()
        if (listed.counts.trusted !== NODES) {
          throw new Error(
            `run ${r}: ${listed.counts.trusted} of ${NODES} trusted: ${JSON.stringify(listed.nodes.filter((n) => n.status !== 'trusted'))}`,
          )
        }
        totals.push(t2 - t0)
        parts.join.push(t1 - t0)
        parts.list.push(t2 - t1)
        parts.crawl.push(listed.discv5.durationMs)
      }
      return {
        totalMs: summarize(totals),
        joinMs: summarize(parts.join),
        listNodesMs: summarize(parts.list),
        ...(discv5 ? { discv5CrawlMs: summarize(parts.crawl) } : {}),
      }
    }
    say(`invite → verified list of ${NODES}, ${RUNS} runs with discv5…`)
    const withDiscv5 = await measure(true)
    say(`… and ${RUNS} without`)
    const withoutDiscv5 = await measure(false)
    say(`… and ${RUNS} in a fresh process each`)
    const cold: number[] = []
    for (let r = 0; r < RUNS; r++) {
      const run = await runCold(inviteCode)
      if (run.trusted !== NODES) throw new Error(`cold run ${r}: ${run.trusted} trusted`)
      cold.push(run.totalMs)
    }

    // --- failover ---------------------------------------------------------------------------
    const alice = client()
    await alice.join({ inviteCode })
    await alice.listNodes()
    await alice.subscribe({ service: 'inbox', count: INBOX, policy: 'random' })
    const statuses: WatchStatus[] = []
    const watch = alice.inbox.watch({ onMessage: () => {}, onStatus: (s) => statuses.push(s) })
    stopWatch = () => watch.stop()
    const servingAfter = async (since: number, notUrl: string | null) => {
      for (;;) {
        const s = statuses.find((x) => x.kind === 'serving' && x.at > since && x.url !== notUrl)
        if (s) return s as Extract<WatchStatus, { kind: 'serving' }>
        if (performance.now() - since > 15_000)
          throw new Error(`no takeover: ${JSON.stringify(statuses)}`)
        await sleep(5)
      }
    }
    await servingAfter(performance.now() - 1, null)
    const byUrl = (url: string) => nodes.find((n) => n.url === url)!
    const killed: number[] = []
    for (let k = 0; k < KILLS && k < INBOX - 2; k++) {
      const victim = byUrl(watch.current()!)
      const at = performance.now()
      process.kill(victim.pid, 'SIGKILL')
      alive.delete(victim)
      const next = await servingAfter(at, victim.url)
      killed.push(next.at - at)
      say(`killed ${victim.url}: ${next.url} serving after ${round(next.at - at)} ms`)
    }
    // A frozen node: its socket stays open; only the missing pong gives it away.
    const frozen = byUrl(watch.current()!)
    const frozeAt = performance.now()
    process.kill(frozen.pid, 'SIGSTOP')
    const thawed = await servingAfter(frozeAt, frozen.url)
    const frozenMs = thawed.at - frozeAt
    say(`froze ${frozen.url}: ${thawed.url} serving after ${round(frozenMs)} ms`)
    watch.stop()
    await watch.done
    process.kill(frozen.pid, 'SIGKILL')
    alive.delete(frozen)

    // A one-shot read whose first inbox node is dead (a fresh client: nothing known to be down).
    const reader: HansaClient = createHansaClient({
      secretKey: alice.env.secretKey!,
      store: alice.store,
    })
    const relays = alice.store.load().inboxRelays
    const deadFirst = [
      ...relays.filter((u) => !alive.has(byUrl(u))),
      ...relays.filter((u) => alive.has(byUrl(u))),
    ]
    const r0 = performance.now()
    const read = await reader.inbox.read({ relays: deadFirst })
    const readMs = performance.now() - r0

    const result = {
      bench: 'client-discovery',
      nodes: NODES,
      runs: RUNS,
      inviteUrls: 1,
      tablesFilledMs: Math.round(tablesMs),
      inviteToVerifiedList: { withDiscv5, withoutDiscv5, freshProcessMs: summarize(cold) },
      failover: {
        killedServingNodeMs: summarize(killed),
        frozenServingNodeMs: round(frozenMs),
        heartbeatMs: alice.env.heartbeatMs,
        readWithDeadFirstNodeMs: round(readMs),
        readAttempts: read.attempts.length,
      },
      targets: {
        inviteToTenVerifiedUnder1s: withDiscv5.totalMs.p50 < 1000 && Math.max(...cold) < 1000,
        failoverUnder2s: Math.max(...killed, frozenMs, readMs) < 2000,
      },
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    stopWatch()
    for (const n of nodes) {
      try {
        process.kill(n.pid, 'SIGCONT')
      } catch {
        // already gone
      }
    }
    await Promise.all(nodes.map((n) => n.stop()))
  }
}

const entry = values['cold-child'] ? coldChild(values['cold-child']) : main()
entry.catch((error) => {
  process.stderr.write(`client-discovery failed: ${error?.stack ?? error}\n`)
  process.exitCode = 1
})
