// `hansa storage export|import|migrate|stats`: a node's events as JSON lines out of and into
// its configured store, a SQLite node's events copied into PostgreSQL, and what the store
// holds. Each returns data (printed as JSON on stdout); progress goes to stderr, so stdout
// stays a clean stream (`hansa storage export > events.jsonl`).
import { once } from 'node:events'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  type NodeConfig,
  exportEvents,
  importEvents,
  migrateEvents,
  migrateNodeState,
  openConfiguredStore,
  openSqlite,
  PostgresStore,
  postgresSource,
  sqliteSource,
  storageStats,
} from '@hansa/node'
import { HansaError } from '@hansa/protocol'
import { type NodeFlags, nodeConfigFromFlags } from './node-config.js'

type StorageFlags = NodeFlags & {
  out?: string
  in?: string
  to?: string
  url?: string
  quiet?: boolean
}

/** A progress line on stderr: rewritten in place on a terminal, every 10 % otherwise. */
function progressReporter(what: string, quiet?: boolean) {
  if (quiet) return undefined
  const tty = process.stderr.isTTY
  let lastShown = -1
  return (done: number, total: number) => {
    if (tty) {
      const pct = total > 0 ? ` (${Math.floor((done / total) * 100)} %)` : ''
      process.stderr.write(`\r${what}: ${done}${total > 0 ? ` of ${total}` : ''}${pct}`)
      return
    }
    const step = total > 0 ? Math.floor((done / total) * 10) : Math.floor(done / 10_000)
    if (step !== lastShown) {
      lastShown = step
      process.stderr.write(
        `${JSON.stringify({ progress: what, done, ...(total > 0 ? { total } : {}) })}\n`,
      )
    }
  }
}

const endProgress = () => {
  if (process.stderr.isTTY) process.stderr.write('\n')
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)

export async function stats(opts: StorageFlags) {
  const { store, source } = await openConfiguredStore(nodeConfigFromFlags(opts))
  try {
    return await storageStats(store, source)
  } finally {
    await store.close()
  }
}

export async function exportTo(opts: StorageFlags) {
  const { store, source } = await openConfiguredStore(nodeConfigFromFlags(opts))
  const out = opts.out && opts.out !== '-' ? createWriteStream(opts.out) : process.stdout
  try {
    const result = await exportEvents(
      source,
      async (chunk) => {
        if (!out.write(chunk)) await once(out, 'drain')
      },
      progressReporter('exported', opts.quiet),
    )
    endProgress()
    return result
  } finally {
    if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()))
    await store.close()
  }
}

export async function importFrom(opts: StorageFlags) {
  const config = nodeConfigFromFlags(opts)
  const { store } = await openConfiguredStore(config)
  const input = opts.in && opts.in !== '-' ? createReadStream(opts.in) : process.stdin
  try {
    const report = await importEvents(store, input, {
      verifyThreads: config.verify.threads,
      progress: progressReporter('read', opts.quiet),
    })
    endProgress()
    return report
  } finally {
    await store.close()
  }
}

export async function migrate(opts: StorageFlags) {
  const config: NodeConfig = nodeConfigFromFlags(opts)
  if (opts.to !== 'postgres') {
    throw new HansaError('HANSA_STORAGE_TARGET', 'hansa storage migrate copies into PostgreSQL', {
      details: 'use --to postgres --url postgres://user:password@host:port/database',
    })
  }
  const url = opts.url ?? (config.storage.backend === 'postgres' ? config.storage.url : '')
  if (!url) {
    throw new HansaError('HANSA_STORAGE_TARGET', 'no PostgreSQL URL: pass --url', {
      details: 'e.g. --url postgres://hansa@127.0.0.1:5432/hansa',
    })
  }
  if (!existsSync(join(config.dataDir, 'events.sqlite'))) {
    throw new HansaError('HANSA_STORAGE_SOURCE', `no SQLite event store in ${config.dataDir}`, {
      details: 'pass --data-dir with the folder of the node to move',
    })
  }
  const sqlite = openSqlite(config.dataDir)
  const target = await PostgresStore.open({ url, poolSize: 2, statementTimeoutMs: 0, live: false })
  try {
    const report = await migrateEvents(
      sqliteSource(sqlite),
      { store: target, source: postgresSource(target) },
      progressReporter('copied', opts.quiet),
    )
    endProgress()
    // The rest of the node's state moves too: a node on PostgreSQL keeps billing (SWAP
    // accounts, cheques, subscriptions, the books), the order book and the federation's chain
    // and proposals there.
    const stateProgress = progressReporter('state rows copied', opts.quiet)
    const state = await migrateNodeState(config.dataDir, target.pool, (_table, done, total) =>
      stateProgress?.(done, total),
    )
    endProgress()
    const countsMatch = report.countsMatch && state.countsMatch
    if (!countsMatch) {
      process.exitCode = 1
      process.stderr.write('hansa: the counts do not match; see the report\n')
    }
    return {
      ...report,
      billing: state.billing,
      orderbook: state.orderbook,
      federation: state.federation,
      countsMatch,
      next: `set storage.backend = postgres and storage.url, then start the node; ${config.dataDir} still holds the key and the guardians' registry signatures (federation.sqlite)`,
    }
  } finally {
    await sqlite.close()
    await target.close()
  }
}

const commands = { stats, export: exportTo, import: importFrom, migrate }

export default async function run(
  opts: StorageFlags & { command: keyof typeof commands },
): Promise<void> {
  const result = await commands[opts.command](opts)
  // Exported events own stdout; the summary then goes to stderr.
  if (opts.command === 'export' && (!opts.out || opts.out === '-')) {
    process.stderr.write(`${JSON.stringify(result)}\n`)
  } else print(result)
}
