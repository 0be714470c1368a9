// Test helpers: a real node on a free loopback port in a temporary data folder, a raw
// WebSocket client that reads the relay's answers in order (for bad input no library sends),
// and the order the order-book tests put on a book.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import type { Order } from '@hansa/protocol'
import WebSocket from 'ws'
import {
  type Clock,
  type HansaNode,
  type Service,
  type Verifier,
  resolveConfig,
  startNode,
} from '@hansa/node'

export type TestNode = HansaNode & { dataDir: string; stop(): Promise<void> }

/** What a test may hand the node besides its options: a clock, more services, a verifier. */
export type TestNodeParts = { clock?: Clock; services?: Service[]; verifier?: Verifier }

export async function startTestNode(
  flags: Record<string, unknown> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'hansa-test-')),
  now?: () => number,
  parts: TestNodeParts = {},
): Promise<TestNode> {
  const config = resolveConfig(
    {
      flags: {
        dataDir,
        port: 0,
        logLevel: 'silent',
        'verify.threads': 1,
        'storage.readerThreads': 1,
        ...flags,
      },
    },
    parts.services,
  )
  const node = await startNode(config, {
    log: pino({ level: 'silent' }),
    ...(now ? { now } : {}),
    ...parts,
  })
  return Object.assign(node, {
    dataDir,
    async stop() {
      await node.close()
    },
  })
}

const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url))

/**
 * A node as its own `hansa node start` process on a free port, with the event rate limits off
 * (these tests stream as fast as the node answers); resolves with its URL once it listens.
 */
export async function startNodeProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [CLI, 'node', 'start', '--data-dir', dataDir, '--port', '0'],
    {
      env: {
        ...process.env,
        HANSA_LOG_LEVEL: 'warn',
        HANSA_LIMITS_EVENTS_PER_SECOND: '0',
        HANSA_LIMITS_EVENTS_PER_SECOND_PER_IP: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      const m = /Hansa node running at (ws:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${out}`)))
  })
  return { child, url }
}

/** A pending sell order (100 000 sats for 50 EUR by SEPA) of `maker`, open from `now` for an hour. */
export const sellOrder = (id: string, maker: string, now: number): Order => ({
  id,
  side: 'sell',
  currency: 'EUR',
  status: 'pending',
  amount: 100_000,
  fiatAmount: [50],
  paymentMethods: ['SEPA'],
  premium: 0,
  network: 'regtest',
  layer: 'lightning',
  expiresAt: now + 3600,
  expiration: now + 7200,
  platform: ['hansa'],
  maker,
})

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** A WebSocket client that queues every relay message for `next()`. */
export class RawClient {
  readonly messages: unknown[][] = []
  private waiters: Array<{ match: (m: unknown[]) => boolean; resolve: (m: unknown[]) => void }> = []
  closed = false

  // Listens from the start: the node's AUTH challenge can arrive in the same packet as the
  // upgrade response, and `ws` emits it right after 'open'.
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as unknown[]
      const i = this.waiters.findIndex((w) => w.match(m))
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m)
      else this.messages.push(m)
    })
    ws.on('close', () => {
      this.closed = true
    })
  }

  static async connect(url: string): Promise<RawClient> {
    const client = new RawClient(new WebSocket(url))
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve())
      client.ws.once('error', reject)
    })
    return client
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** The next message (already received or coming) that matches, within `ms`. */
  next(match: (m: unknown[]) => boolean = () => true, ms = 5000): Promise<unknown[]> {
    const i = this.messages.findIndex(match)
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0]!)
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve }
      this.waiters.push(waiter)
      setTimeout(() => {
        const j = this.waiters.indexOf(waiter)
        if (j >= 0) {
          this.waiters.splice(j, 1)
          reject(
            new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages)}`),
          )
        }
      }, ms)
    })
  }

  ok(id: string): Promise<unknown[]> {
    return this.next((m) => m[0] === 'OK' && m[1] === id)
  }

  /** All EVENTs for a subscription up to its EOSE (or its CLOSED). */
  async collect(subId: string): Promise<{ events: Record<string, unknown>[]; end: unknown[] }> {
    const events: Record<string, unknown>[] = []
    for (;;) {
      const m = await this.next(
        (x) => x[1] === subId && ['EVENT', 'EOSE', 'CLOSED'].includes(x[0] as string),
      )
      if (m[0] === 'EVENT') events.push(m[2] as Record<string, unknown>)
      else return { events, end: m }
    }
  }

  close(): void {
    this.ws.close()
  }
}
