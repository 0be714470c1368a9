// Short reads on a few pipelined PostgreSQL connections (node-postgres's `pipeline: true`):
// the reads that one turn of the event loop brings go down one connection in one write, and
// its backend answers them in order. Through a pool, each read was a write of its own that
// woke a backend of its own: at ~4,000 REQs/s on two cores those writes were a tenth of the
// event loop's time, and the wake-ups cost PostgreSQL more again.
//
// A connection is chosen once per turn: the one with the fewest reads outstanding, or a new
// one while fewer than `size` are open and every open one is busy. It stays corked until the
// turn's I/O callbacks are done (setImmediate), so the turn's Bind/Execute/Sync messages leave
// in one write. Each read keeps its own Sync, so an error (a statement cancelled by the
// timeout) fails that read alone. A connection that breaks fails the reads outstanding on it,
// as a pool's connection would, and is replaced at the next turn.
//
// Only short reads belong here, since a slow one holds up those queued behind it on its
// connection: the store sends the reads whose plan is the walk down one value's index to the
// limit (postgres-query.ts). Even such a walk can be long (an author with millions of events
// that the reader may not see), so a connection whose oldest read has waited `stallMs` takes
// no new turn, and when every connection is stalled the reads go to `fallback` (the store's
// pool): a few slow reads can delay those already queued behind them, never all that follow.
import { performance } from 'node:perf_hooks'
import type pg from 'pg'

export type PipelinedReadsOptions = {
  connectionString: string
  /** The most connections opened (each opened only when every open one is busy). */
  size: number
  applicationName: string
  statementTimeoutMs?: number
  /** Sent on each connection before its first read: session settings. A failure is ignored. */
  setup?: string
  /** A connection whose oldest outstanding read is older than this takes no new turn (200). */
  stallMs?: number
  /** Where reads go while every connection is stalled. */
  fallback: <R extends unknown[]>(config: pg.QueryArrayConfig) => Promise<pg.QueryArrayResult<R>>
}

const STALL_MS = 200

type Connection = {
  client: pg.Client
  /** Reads sent (or queued in the client) and not yet answered. */
  outstanding: number
  /** When each outstanding read was sent, oldest first: a pipeline answers in order. */
  sentAt: number[]
  /** Connected, so its socket may be corked: before that, pg writes the start-up itself. */
  ready: boolean
  broken: boolean
}

export class PipelinedReads {
  private connections: Connection[] = []
  /** The connection this turn's reads go to (null: the fallback), until setImmediate. */
  private turn: Connection | null | undefined
  private ended = false

  constructor(
    private readonly pg: typeof import('pg').default,
    private readonly options: PipelinedReadsOptions,
  ) {}

  /** One read; its rows as arrays (the only shape the store reads here). */
  query<R extends unknown[]>(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult<R>> {
    if (this.ended) return Promise.reject(new Error('the store is closed'))
    const connection = this.turn === undefined ? this.startTurn() : this.turn
    if (connection === null) return this.options.fallback<R>(config)
    connection.outstanding++
    connection.sentAt.push(performance.now())
    const settled = () => {
      connection.outstanding--
      connection.sentAt.shift()
    }
    const result = connection.client.query<R>(config)
    result.then(settled, settled)
    return result
  }

  /** Connections open (for metrics, as a pool's `totalCount`). */
  get totalCount(): number {
    return this.connections.filter((c) => !c.broken).length
  }
  /** Open connections with no read outstanding. */
  get idleCount(): number {
    return this.connections.filter((c) => !c.broken && c.outstanding === 0).length
  }
  /** Reads sent and not yet answered, on every connection. */
  get waitingCount(): number {
    return this.connections.reduce((sum, c) => sum + (c.broken ? 0 : c.outstanding), 0)
  }

  async end(): Promise<void> {
    this.ended = true
    const open = this.connections
    this.connections = []
    await Promise.all(open.map((c) => c.client.end().catch(() => {})))
  }

  private startTurn(): Connection | null {
    this.connections = this.connections.filter((c) => !c.broken)
    const stalledBefore = performance.now() - (this.options.stallMs ?? STALL_MS)
    let chosen: Connection | undefined
    for (const c of this.connections) {
      if (c.outstanding > 0 && c.sentAt[0]! < stalledBefore) continue
      if (!chosen || c.outstanding < chosen.outstanding) chosen = c
    }
    if (!chosen || chosen.outstanding > 0) {
      if (this.connections.length < this.options.size) chosen = this.open()
    }
    const turn = chosen ?? null
    this.turn = turn
    const stream = turn?.ready ? turn.client.connection.stream : undefined
    stream?.cork()
    setImmediate(() => {
      this.turn = undefined
      stream?.uncork()
    })
    return turn
  }

  private open(): Connection {
    const { connectionString, applicationName, statementTimeoutMs, setup } = this.options
    const client = new this.pg.Client({
      connectionString,
      pipeline: true,
      application_name: applicationName,
      ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
    })
    const connection: Connection = {
      client,
      outstanding: 0,
      sentAt: [],
      ready: false,
      broken: false,
    }
    const broken = () => {
      connection.broken = true
    }
    client.on('error', broken)
    client.on('end', broken)
    client.connect().then(() => {
      connection.ready = true
    }, broken)
    // Queued before any read, so it runs first on this connection.
    if (setup) client.query(setup).catch(() => {})
    this.connections.push(connection)
    return connection
  }
}
