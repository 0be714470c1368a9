// `hansa devnet`: a whole federation on this machine, on embedded SQLite — three guardians
// (ana, bo, cy; threshold 2), two coordinators (hanseatic runs node-1 and node-2, lubeck runs
// node-3) and three nodes, each a `hansa node start` child process with its own data folder —
// founded through the same ceremony, and the same functions, as a real federation: the
// guardians' setup codes, the checked draft, the signatures, the sealed genesis spread to
// every node. A second run with the same folder restarts the same nodes on the same ports.
//
// Layout of the data folder:
//   devnet.json                    what was set up (ports, keys, federation id, invite code)
//   nodes/node-N/                  a node's data folder (node.key, events.sqlite,
//                                  federation.sqlite) and its log, node.log
//   guardians/NAME/                guardian.key, guardian.json, setup-code.txt
//   coordinators/ALIAS/coordinator.key
//   chain/, users/                 the local chain and its funded users (devnet-chain.ts)
// With the chain (`hansa devnet`'s default; `chain: true` here), node-1 is free, node-2 meters
// its inbox in SWAP's hard mode and node-3 sells it by subscription, both paid on chain.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getFederation, requestSync } from '@hansa/client'
import { createKeyFile, readKeyFile } from '@hansa/node'
import { HansaError } from '@hansa/protocol'
import type { DevnetChain, DevnetChainInfo } from './devnet-chain.js'
import { draftFederation } from './draft.js'
import { guardianInit, loadGuardian } from './guardian.js'
import { signProposal } from './governance.js'
import { inviteCodeFor } from './summary.js'

export const DEFAULT_DEVNET_DIR = './hansa-devnet'

const NODES = [
  { name: 'node-1', coordinator: 'hanseatic', access: 'free' },
  { name: 'node-2', coordinator: 'hanseatic', access: 'metered' },
  { name: 'node-3', coordinator: 'lubeck', access: 'subscription' },
] as const
const GUARDIANS = [
  { name: 'ana', node: 0 },
  { name: 'bo', node: 1 },
  { name: 'cy', node: 2 },
] as const
const COORDINATORS = ['hanseatic', 'lubeck'] as const
const THRESHOLD = 2

export type DevnetNode = {
  name: string
  coordinator: string
  url: string
  port: number
  pubkey: string
  dataDir: string
  log: string
}

export type DevnetInfo = {
  dataDir: string
  federationId: string
  inviteCode: string
  threshold: number
  nodes: DevnetNode[]
  guardians: { name: string; pubkey: string; dir: string; node: string }[]
  coordinators: { alias: string; pubkey: string; keyFile: string }[]
  /** Guardians whose signatures sealed the genesis. */
  signedBy: string[]
  resumed: boolean
  /** The local chain, its contracts and users (absent with `chain: false`). */
  chain?: DevnetChainInfo & { access: Record<string, string> }
}

export type Devnet = {
  info: DevnetInfo
  /** Resolves when a node process exits while the devnet is running (not on stop()). */
  unexpectedExit: Promise<{ node: string; code: number | null }>
  stop(): Promise<void>
}

export type DevnetOptions = {
  dataDir?: string
  /** The `hansa` entry point to run nodes with (default: this package's main.js). */
  cliPath?: string
  /** Progress lines for a person ("starting node-1 …"). */
  progress?: (line: string) => void
  /** Seconds between the nodes' manifest syncs (default 5). */
  syncIntervalSeconds?: number
  /** Aborting stops the nodes started so far; startDevnet then rejects. */
  signal?: AbortSignal
  /**
   * Run a local chain with node-2 and node-3 paid on it (`hansa devnet` does by default);
   * default false here: every node free, no chain (what most tests want).
   */
  chain?: boolean
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

type Child = { name: string; process: ChildProcess; exit: Promise<number | null>; log: string }

const chainInfo = (chain: DevnetChain | undefined) =>
  chain
    ? {
        chain: {
          ...chain.info,
          access: Object.fromEntries(NODES.map((n) => [n.name, n.access])),
        },
      }
    : {}

export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const dataDir = resolve(options.dataDir ?? DEFAULT_DEVNET_DIR)
  const progress = options.progress ?? (() => {})
  const cliPath = options.cliPath ?? fileURLToPath(new URL('../main.js', import.meta.url))
  const stateFile = join(dataDir, 'devnet.json')
  const saved = existsSync(stateFile)
    ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DevnetInfo)
    : undefined
  if (saved === undefined && existsSync(join(dataDir, 'guardians'))) {
    throw new HansaError(
      'HANSA_DEVNET_STATE',
      `${dataDir} holds an unfinished devnet (its ceremony did not complete)`,
      { details: `Remove ${dataDir}, or pass another --data-dir.` },
    )
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })

  const children: Child[] = []
  let stopping = false
  let reportExit: (value: { node: string; code: number | null }) => void = () => {}
  const unexpectedExit = new Promise<{ node: string; code: number | null }>((r) => {
    reportExit = r
  })
  let chain: DevnetChain | undefined
  const stop = async () => {
    stopping = true
    await stopNodes()
    await chain?.stop()
  }
  const stopNodes = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.process.exitCode !== null || child.process.signalCode !== null) return
        child.process.kill('SIGTERM')
        const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000)
        await child.exit
        clearTimeout(timer)
      }),
    )
  }

  const aborted = () =>
    new HansaError('HANSA_DEVNET_ABORTED', 'interrupted; the nodes started so far were stopped')
  options.signal?.addEventListener('abort', () => void stop(), { once: true })
  const step = () => {
    if (options.signal?.aborted) throw aborted()
  }
  try {
    // 1. Three nodes, each its own process, data folder and port.
    const ports = saved?.nodes.map((n) => n.port) ?? []
    while (ports.length < NODES.length) {
      const port = await freePort()
      if (!ports.includes(port)) ports.push(port)
    }
    const nodes: DevnetNode[] = NODES.map((n, i) => {
      const dir = join(dataDir, 'nodes', n.name)
      return {
        name: n.name,
        coordinator: n.coordinator,
        url: `ws://127.0.0.1:${ports[i]}`,
        port: ports[i]!,
        pubkey: '',
        dataDir: dir,
        log: join(dir, 'node.log'),
      }
    })
    // Each node's one-time setup token: the ceremony's draft carries it, so each node adopts
    // the devnet's genesis and nothing else (docs/security.md).
    const setupTokens = Object.fromEntries(
      nodes.map((n) => [n.url, `hst_${randomBytes(18).toString('base64url')}`]),
    )
    if (options.chain ?? false) {
      // Node keys first, so the chain can give them gas before they start.
      const addresses = nodes.map((node) => {
        mkdirSync(node.dataDir, { recursive: true, mode: 0o700 })
        const keyFile = join(node.dataDir, 'node.key')
        return (existsSync(keyFile) ? readKeyFile(keyFile) : createKeyFile(keyFile)).address
      })
      // loaded only here: viem and the contracts stay out of every other command's start
      const { startDevnetChain } = await import('./devnet-chain.js')
      chain = await startDevnetChain(dataDir, addresses, progress)
    }
    for (const [i, node] of nodes.entries()) {
      mkdirSync(node.dataDir, { recursive: true, mode: 0o700 })
      progress(`starting ${node.name} on ${node.url} (log: ${node.log})`)
      const fd = openSync(node.log, 'a')
      const child = spawn(
        process.execPath,
        [
          cliPath,
          'node',
          'start',
          '--data-dir',
          node.dataDir,
          '--port',
          String(node.port),
          '--host',
          '127.0.0.1',
        ],
        {
          // Its own process group: Ctrl-C reaches the devnet, which stops each node in turn.
          detached: true,
          stdio: ['ignore', fd, fd],
          env: {
            ...process.env,
            HANSA_NAME: `Hansa devnet ${node.name}`,
            HANSA_FEDERATION_SETUP_TOKEN: setupTokens[node.url]!,
            HANSA_LOG_LEVEL: process.env.HANSA_LOG_LEVEL ?? 'info',
            HANSA_FEDERATION_SYNC_INTERVAL_SECONDS: String(options.syncIntervalSeconds ?? 5),
            HANSA_VERIFY_THREADS: process.env.HANSA_VERIFY_THREADS ?? '1',
            // Both coordinators run the order book (docs/orderbook.md) on a regtest network.
            HANSA_ORDERBOOK_ENABLED: 'true',
            HANSA_ORDERBOOK_NETWORK: process.env.HANSA_ORDERBOOK_NETWORK ?? 'regtest',
            ...chain?.nodeEnv(NODES[i]!.access),
          },
        },
      )
      closeSync(fd)
      const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
      exit.then((code) => {
        if (!stopping) reportExit({ node: node.name, code })
      })
      children.push({ name: node.name, process: child, exit, log: node.log })
    }
    await Promise.all(
      nodes.map(async (node, i) => {
        const child = children[i]!
        const until = Date.now() + 60_000
        for (;;) {
          step()
          if (child.process.exitCode !== null) {
            throw new HansaError(
              'HANSA_DEVNET_NODE_FAILED',
              `${node.name} stopped while starting (exit ${child.process.exitCode})`,
              { details: `last lines of ${node.log}:\n${tail(node.log)}` },
            )
          }
          try {
            const info = await getFederation(node.url, { timeoutMs: 1000 })
            node.pubkey = info.node.pubkey
            return
          } catch {
            if (Date.now() > until) {
              throw new HansaError(
                'HANSA_DEVNET_NODE_FAILED',
                `${node.name} did not start within 60 s`,
                {
                  details: `last lines of ${node.log}:\n${tail(node.log)}`,
                },
              )
            }
            await sleep(200)
          }
        }
      }),
    )

    step()
    if (saved !== undefined) {
      // A second run: the same nodes, which kept their federation in federation.sqlite.
      for (const node of nodes) {
        const info = await getFederation(node.url)
        if (info.federationId !== saved.federationId) {
          throw new HansaError(
            'HANSA_DEVNET_STATE',
            `${node.name} follows ${info.federationId ?? 'no federation'}, not the devnet's ${saved.federationId}`,
            { details: `Remove ${dataDir} to start a fresh devnet.` },
          )
        }
      }
      progress('resumed the devnet from its data folder')
      return {
        info: { ...saved, nodes, resumed: true, ...chainInfo(chain) },
        unexpectedExit,
        stop,
      }
    }

    // 2. The ceremony. Each guardian: a key and a setup code naming their node.
    const guardians = GUARDIANS.map((g) => {
      const dir = join(dataDir, 'guardians', g.name)
      const init = guardianInit({ dataDir: dir, name: g.name, nodeUrl: nodes[g.node]!.url })
      progress(`guardian ${g.name}: setup code ${init.setupCode.slice(0, 24)}…`)
      return {
        name: g.name,
        pubkey: init.pubkey,
        dir,
        node: nodes[g.node]!.url,
        code: init.setupCode,
      }
    })
    const coordinators = COORDINATORS.map((alias) => {
      const keyFile = join(dataDir, 'coordinators', alias, 'coordinator.key')
      const key = createKeyFile(keyFile)
      return { alias, pubkey: key.pubkey, keyFile }
    })
    // 3. ana drafts; the draft is checked against the live nodes before anyone signs.
    const drafter = loadGuardian({ dataDir: guardians[0]!.dir })
    const draft = await draftFederation({
      name: 'Hansa devnet',
      threshold: THRESHOLD,
      guardians: guardians.map((g) => g.code),
      expectGuardians: GUARDIANS.length,
      coordinators: coordinators.map((c) => `${c.alias}=${c.pubkey}`),
      nodes: nodes.map((n) => `${n.coordinator}=${n.url}`),
      guardian: drafter,
      setupTokens,
      now: Math.floor(Date.now() / 1000),
    })
    if (!draft.ok || draft.hash === null) {
      throw new HansaError('HANSA_DEVNET_DRAFT', 'the devnet draft was refused', {
        details: draft.problems.map((p) => `[${p.rule}] ${p.message}`).join('; '),
      })
    }
    progress(`draft ${draft.hash.slice(0, 16)}… checked and posted to the nodes`)
    // 4. Guardians sign on their own nodes until the threshold seals the genesis.
    const signedBy: string[] = []
    let sealed: { federationId: string | null; inviteCode: string | null } | undefined
    for (const g of guardians) {
      step()
      const result = await signProposal({
        nodeUrl: g.node,
        guardian: loadGuardian({ dataDir: g.dir }),
        proposal: draft.hash,
      })
      signedBy.push(g.name)
      progress(`guardian ${g.name} signed`)
      if (result.adopted) {
        sealed = result
        break
      }
    }
    if (sealed?.federationId == null || sealed.inviteCode === null) {
      throw new HansaError('HANSA_DEVNET_SEAL', 'the genesis was signed but no node adopted it')
    }
    const federationId = sealed.federationId
    // 5. Every node adopts the sealed genesis (pushed by the node that sealed it).
    const until = Date.now() + 20_000
    for (const node of nodes) {
      for (;;) {
        step()
        const info = await getFederation(node.url)
        if (info.federationId === federationId) break
        if (Date.now() > until) {
          throw new HansaError('HANSA_DEVNET_SEAL', `${node.name} did not adopt the genesis`)
        }
        await requestSync(node.url).catch(() => {})
        await sleep(200)
      }
    }
    const head = (await getFederation(nodes[0]!.url)).head!.manifest
    if (chain) {
      const signers = guardians.filter((g) => signedBy.includes(g.name))
      const tx = await chain.anchor(
        federationId,
        head,
        signers.map((g) => loadGuardian({ dataDir: g.dir }).key.secretKey),
      )
      progress(`manifest v${head.version} anchored in the FederationRegistry (tx ${tx})`)
    }
    const info: DevnetInfo = {
      dataDir,
      federationId,
      inviteCode: inviteCodeFor(federationId, head),
      threshold: THRESHOLD,
      nodes,
      guardians: guardians.map(({ code: _code, ...g }) => g),
      coordinators,
      signedBy,
      resumed: false,
      ...chainInfo(chain),
    }
    writeFileSync(stateFile, `${JSON.stringify(info, null, 2)}\n`)
    return { info, unexpectedExit, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
