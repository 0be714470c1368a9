// The NIP-77 server: any client (another member node, strfry, nostr-tools' NegentropySync)
// reconciles a filter's events with this node by negentropy, and learns which ids each side
// lacks without either sending its whole set.
//
//   NEG-OPEN subId filter msg → the filter goes through the services' onReq hooks (the inbox
//     wants AUTH for gift wraps; a service that is off refuses) → the store lists (created_at,
//     id) of the matches under the reader's access (private kinds: only her own, or all of
//     them for a member node replicating) → NEG-MSG with our answer
//   NEG-MSG subId msg → NEG-MSG with the next answer (the version byte alone when done)
//   NEG-CLOSE subId → the session is dropped
//   NEG-ERR subId reason ← any refusal, with the usual prefixes
//
// Bounds, since every frame is a stranger's: frames up to limits.maxMessageBytes, our own
// messages up to replication.negentropyFrameBytes (NIP-77's frame size limit), at most
// replication.negentropyMaxSessions open per connection, at most negentropyMaxRecords events
// per session ("blocked: this query is too big") and four times that held by all sessions
// together, NEG-OPEN rate-limited per connection (each costs a store scan), and a session idle
// for negentropyIdleSeconds closed with NEG-ERR.
import { type Filter, filterError } from '@hansa/protocol'
import type { Logger } from 'pino'
import { Counter, Histogram, type Registry } from 'prom-client'
import type { NodeConfig } from '../config.js'
import type { EventStore } from '../store/event-store.js'
import type { Connection, ConnectionInfo } from './connection.js'
import { NegentropyResponder } from './negentropy-responder.js'
import { PrefixSumStorage } from './negentropy-storage.js'
import { NEGENTROPY_VERSION_HEX, nip77 } from './nip77.js'
import { TokenBucket } from './rate-limiter.js'
import { type Refusal, type RefusalPrefix, refusalText, refuse } from './refusal.js'

export type NegentropyServerOptions = {
  config: NodeConfig
  store: EventStore
  log: Logger
  registry: Registry
  /** Unix seconds (expiry of events). */
  now: () => number
  /** Milliseconds, for rate limits. */
  nowMs: () => number
  /** The relay's onReq hooks on a NEG-OPEN's filter. */
  requestRefusal: (filters: readonly Filter[], conn: Connection) => Promise<Refusal | undefined>
  /** What this connection may read of the private kinds. */
  readAccess: (conn: Connection) => { privateKinds: number[]; readerPubkeys: string[] }
}

type Session = {
  /** Null while the store is read. */
  neg: NegentropyResponder | null
  records: number
  idle: NodeJS.Timeout | undefined
}

/** NIP-77 adds `closed:` (the relay ended the session) to NIP-01's prefixes. */
type NegRefusal = Omit<Refusal, 'prefix'> & { prefix: RefusalPrefix | 'closed' }
const closed = (rule: string, message: string): NegRefusal => ({ prefix: 'closed', rule, message })

const SUB_ID_MAX = 64
const HEX = /^(?:[0-9a-f]{2})+$/
/** NEG-OPENs a connection may send per second (each costs a scan of the matching events). */
const OPENS_PER_SECOND = 2

export const negErrMessage = (subId: string, reason: string): string =>
  JSON.stringify(['NEG-ERR', subId, reason])
export const negMsgMessage = (subId: string, message: string): string =>
  JSON.stringify(['NEG-MSG', subId, message])

export class NegentropyServer {
  private readonly sessions = new Map<Connection, Map<string, Session>>()
  private readonly opens = new WeakMap<Connection, TokenBucket>()
  private heldRecords = 0
  private readonly messages: Counter<'verb'>
  private readonly refusals: Counter<'prefix' | 'rule'>
  private readonly records: Histogram

  constructor(private readonly options: NegentropyServerOptions) {
    const registers = [options.registry]
    this.messages = new Counter({
      name: 'hansa_negentropy_messages_total',
      help: 'NIP-77 frames received, by verb',
      labelNames: ['verb'] as const,
      registers,
    })
    this.refusals = new Counter({
      name: 'hansa_negentropy_refused_total',
      help: 'NIP-77 sessions refused or ended with NEG-ERR, by prefix and rule',
      labelNames: ['prefix', 'rule'] as const,
      registers,
    })
    this.records = new Histogram({
      name: 'hansa_negentropy_session_records',
      help: 'Events a NIP-77 session reconciled over',
      buckets: [10, 100, 1000, 10000, 100000, 1000000],
      registers,
    })
  }

  private get limits() {
    return this.options.config.replication
  }

  /** Drops a closed connection's sessions. */
  onClose(info: ConnectionInfo): void {
    const conn = info as Connection
    const mine = this.sessions.get(conn)
    if (!mine) return
    for (const subId of [...mine.keys()]) this.drop(conn, subId)
    this.sessions.delete(conn)
  }

  /** Open sessions, all connections together (for tests and metrics). */
  get openSessions(): number {
    let n = 0
    for (const mine of this.sessions.values()) n += mine.size
    return n
  }

  async onMessage(conn: Connection, text: string, bytes: number): Promise<void> {
    const { maxMessageBytes } = this.options.config.limits
    if (bytes > maxMessageBytes) {
      const subId = /^\[\s*"NEG-[A-Z]+"\s*,\s*"([^"\\]{1,64})"/.exec(text)?.[1]
      const r = refuse(
        'invalid',
        'neg-too-large',
        `message is larger than ${maxMessageBytes} bytes`,
      )
      if (subId !== undefined) {
        this.drop(conn, subId)
        return this.error(conn, subId, r)
      }
      this.refusals.inc({ prefix: r.prefix, rule: r.rule })
      conn.send(JSON.stringify(['NOTICE', refusalText(r)]))
      return
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      conn.send(JSON.stringify(['NOTICE', 'invalid: NIP-77 message is not JSON']))
      return
    }
    const m = Array.isArray(parsed) ? (parsed as unknown[]) : []
    const [verb, subId] = m
    if (typeof subId !== 'string' || subId.length === 0 || subId.length > SUB_ID_MAX) {
      conn.send(
        JSON.stringify([
          'NOTICE',
          `invalid: ${String(verb)} needs a subscription id of 1 to ${SUB_ID_MAX} characters`,
        ]),
      )
      return
    }
    switch (verb) {
      case 'NEG-OPEN':
        this.messages.inc({ verb })
        return this.open(conn, subId, m)
      case 'NEG-MSG':
        this.messages.inc({ verb })
        return this.next(conn, subId, m)
      case 'NEG-CLOSE':
        this.messages.inc({ verb })
        this.drop(conn, subId)
        return
      default:
        return this.error(
          conn,
          subId,
          refuse('invalid', 'neg-verb', `unknown NIP-77 verb ${JSON.stringify(verb)}`),
        )
    }
  }

  private async open(conn: Connection, subId: string, m: unknown[]): Promise<void> {
    // NIP-77: a NEG-OPEN on an open id replaces that session.
    this.drop(conn, subId)
    if (m.length !== 4) {
      return this.error(
        conn,
        subId,
        refuse('invalid', 'neg-shape', 'NEG-OPEN is ["NEG-OPEN", subId, filter, message]'),
      )
    }
    const filter = m[2]
    const message = m[3]
    const bad = filterError(filter, { maxValues: this.options.config.limits.maxFilterValues })
    if (bad) return this.error(conn, subId, refuse('invalid', 'neg-filter', bad))
    if (typeof message !== 'string' || !HEX.test(message)) {
      return this.error(
        conn,
        subId,
        refuse('invalid', 'neg-message', 'the negentropy message must be lowercase hex'),
      )
    }
    const mine = this.sessions.get(conn) ?? new Map<string, Session>()
    if (mine.size >= this.limits.negentropyMaxSessions) {
      return this.error(
        conn,
        subId,
        refuse(
          'rate-limited',
          'neg-sessions',
          `too many open negentropy sessions (at most ${this.limits.negentropyMaxSessions}); NEG-CLOSE one first`,
        ),
      )
    }
    if (!this.openBudget(conn).take(this.options.nowMs())) {
      return this.error(
        conn,
        subId,
        refuse(
          'rate-limited',
          'neg-open-rate',
          'slow down: too many NEG-OPEN from this connection',
        ),
      )
    }
    const session: Session = { neg: null, records: 0, idle: undefined }
    mine.set(subId, session)
    this.sessions.set(conn, mine)
    this.touch(conn, subId, session)

    const refusal = await this.options.requestRefusal([filter as Filter], conn)
    if (mine.get(subId) !== session) return // closed or replaced meanwhile
    if (refusal) {
      this.drop(conn, subId)
      return this.error(conn, subId, refusal)
    }
    const max = this.limits.negentropyMaxRecords
    let items: Awaited<ReturnType<EventStore['syncItems']>>
    try {
      items = await this.options.store.syncItems(filter as Filter, {
        ...this.options.readAccess(conn),
        now: this.options.now(),
        max,
      })
    } catch (err) {
      this.options.log.error({ err, subId }, 'negentropy: listing the filter failed')
      this.drop(conn, subId)
      return this.error(conn, subId, refuse('error', 'neg-store', 'the query failed; try again'))
    }
    if (mine.get(subId) !== session) return
    if (items === null) {
      this.drop(conn, subId)
      return this.error(
        conn,
        subId,
        refuse(
          'blocked',
          'neg-too-big',
          `this query is too big: more than ${max} events match; narrow it with since/until`,
        ),
      )
    }
    if (this.heldRecords + items.length > max * 4) {
      this.drop(conn, subId)
      return this.error(
        conn,
        subId,
        refuse('rate-limited', 'neg-busy', 'this node is reconciling too much at once; try again'),
      )
    }
    session.neg = new NegentropyResponder(
      new nip77.Negentropy(PrefixSumStorage.of(items), this.limits.negentropyFrameBytes),
    )
    session.records = items.length
    this.heldRecords += items.length
    this.records.observe(items.length)
    this.answer(conn, subId, session, message, true)
  }

  private async next(conn: Connection, subId: string, m: unknown[]): Promise<void> {
    const session = this.sessions.get(conn)?.get(subId)
    if (!session?.neg) {
      return this.error(
        conn,
        subId,
        closed('neg-unknown', 'no open negentropy session with this id; NEG-OPEN first'),
      )
    }
    const message = m[2]
    if (m.length !== 3 || typeof message !== 'string' || !HEX.test(message)) {
      this.drop(conn, subId)
      return this.error(
        conn,
        subId,
        refuse('invalid', 'neg-message', 'NEG-MSG is ["NEG-MSG", subId, lowercase hex]'),
      )
    }
    this.touch(conn, subId, session)
    this.answer(conn, subId, session, message, false)
  }

  /** Runs one reconcile step and sends its answer, or ends the session on a bad message. */
  private answer(
    conn: Connection,
    subId: string,
    session: Session,
    message: string,
    first: boolean,
  ): void {
    let reply: string
    try {
      reply = session.neg!.reconcile(message)
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err)
      this.drop(conn, subId)
      // Negentropy's rule: a version we do not speak is answered with the one we do.
      if (first && /protocol version/.test(text)) {
        conn.send(negMsgMessage(subId, NEGENTROPY_VERSION_HEX))
        return
      }
      this.error(conn, subId, refuse('invalid', 'neg-reconcile', text))
      return
    }
    conn.send(negMsgMessage(subId, reply))
  }

  private touch(conn: Connection, subId: string, session: Session): void {
    clearTimeout(session.idle)
    session.idle = setTimeout(() => {
      if (this.sessions.get(conn)?.get(subId) !== session) return
      this.drop(conn, subId)
      this.error(conn, subId, closed('neg-idle', 'negentropy session idle too long'))
    }, this.limits.negentropyIdleSeconds * 1000)
    session.idle.unref()
  }

  private drop(conn: Connection, subId: string): void {
    const mine = this.sessions.get(conn)
    const session = mine?.get(subId)
    if (!mine || !session) return
    clearTimeout(session.idle)
    this.heldRecords -= session.records
    mine.delete(subId)
    if (mine.size === 0) this.sessions.delete(conn)
  }

  private error(conn: Connection, subId: string, r: NegRefusal): void {
    this.refusals.inc({ prefix: r.prefix, rule: r.rule })
    conn.send(negErrMessage(subId, `${r.prefix}: ${r.message}`))
  }

  private openBudget(conn: Connection): TokenBucket {
    let bucket = this.opens.get(conn)
    if (!bucket) {
      bucket = new TokenBucket(OPENS_PER_SECOND, OPENS_PER_SECOND * 4, this.options.nowMs())
      this.opens.set(conn, bucket)
    }
    return bucket
  }
}
