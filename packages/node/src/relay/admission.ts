// Admission: the relay engine's door. It takes each new WebSocket (refused while the node shuts
// down, or past `limits.maxConnectionsPerIp`), stops reading from a client whose messages are
// still being worked on, and makes each frame a FrameVerdict: a NIP-77 frame for the
// negentropy server, one parsed ClientMessage for the stage its verb names, or a refusal —
// too large (answered unparsed), past the event rate (checked on the raw frame, so a flood
// costs no parsing), or malformed. It also keeps the per-address budgets, events and queries.
import type { IncomingMessage } from 'node:http'
import { closedMessage, noticeMessage, okMessage, parseClientMessage } from '@hansa/protocol'
import type { RawData, WebSocket } from 'ws'
import { Connection } from './connection.js'
import type { FrameAnswer, FrameVerdict } from './messages.js'
import { TokenBucket } from './rate-limiter.js'
import { refusalText, refuse } from './refusal.js'
import type { StageContext } from './stage-context.js'

/** NIP-77 frames, told apart before parsing: `["NEG-OPEN", …` and its kin. */
const NEG_FRAME = /^\[\s*"NEG-/

/** An event's id, read from the first bytes of a frame that is not parsed. */
const EVENT_ID = /"id"\s*:\s*"([0-9a-f]{64})"/

export class Admission {
  private readonly ipConnections = new Map<string, number>()
  private readonly ipEventBudgets = new Map<string, TokenBucket>()
  private readonly ipQueryBudgets = new Map<string, TokenBucket>()

  constructor(private readonly ctx: StageContext) {}

  /**
   * A new socket's Connection, or null when it is refused (and closed). `address` is the key
   * the per-address limits count it under (the HTTP server's: the client behind a trusted
   * proxy, an IPv6 /64); the socket's own address without it.
   */
  open(socket: WebSocket, request: IncomingMessage, address?: string): Connection | null {
    const { config, metrics, clock } = this.ctx
    const ip = address ?? request.socket.remoteAddress ?? 'unknown'
    const open = this.ipConnections.get(ip) ?? 0
    if (!this.ctx.accepting()) {
      socket.close(1001, 'shutting down')
      return null
    }
    if (open >= config.limits.maxConnectionsPerIp) {
      socket.send(noticeMessage('rate-limited: too many connections from your address'))
      socket.close(1008, 'too many connections')
      return null
    }
    this.ipConnections.set(ip, open + 1)
    const conn = new Connection(
      socket,
      ip,
      {
        eventsPerSecond: config.limits.eventsPerSecond,
        queriesPerSecond: config.limits.queriesPerSecond,
        authPerSecond: config.limits.authPerSecond,
      },
      clock.nowMs(),
      config.limits.maxSendBufferBytes * 4,
    )
    metrics.connections.inc()
    metrics.connectionsTotal.inc()
    return conn
  }

  /** Gives back a closed connection's place among its address's connections. */
  closed(conn: Connection): void {
    const open = (this.ipConnections.get(conn.ip) ?? 1) - 1
    if (open <= 0) this.ipConnections.delete(conn.ip)
    else this.ipConnections.set(conn.ip, open)
    this.ctx.metrics.connections.dec()
  }

  /**
   * Hands each frame of a connection to `handle`, as text with its size in bytes (the frame's
   * length: no need to measure the decoded text again). Back-pressure: a connection whose
   * messages are still being worked on (verify, write, query) past a count or a size is not
   * read from until they are answered, so a flood waits in its own TCP buffers, not in the
   * node's memory.
   */
  receive(conn: Connection, handle: (text: string, bytes: number) => Promise<void>): void {
    conn.socket.on('message', (data: RawData) => {
      const frame = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data)
      conn.inProgress++
      conn.inProgressBytes += frame.length
      conn.reconsiderReading()
      this.ctx.track(
        handle(frame.toString('utf8'), frame.length).finally(() => {
          conn.inProgress--
          conn.inProgressBytes -= frame.length
          conn.reconsiderReading()
        }),
      )
    })
  }

  /** What becomes of one frame; `negentropy` when a NIP-77 server takes NEG-* frames. */
  admit(conn: Connection, text: string, bytes: number, negentropy: boolean): FrameVerdict {
    const { limits } = this.ctx.config
    if (negentropy && NEG_FRAME.test(text)) return { type: 'negentropy' }
    if (bytes > limits.maxMessageBytes) {
      const r = refuse(
        'invalid',
        'message-too-large',
        `message is larger than ${limits.maxMessageBytes} bytes`,
      )
      const id = EVENT_ID.exec(text)?.[1]
      if (text.startsWith('["EVENT"') && id) return refused({ type: 'OK', id, refusal: r })
      return refused({ type: 'NOTICE', rule: 'message-too-large', text: refusalText(r) })
    }
    // A flood of events is refused before it is parsed: the buckets are checked on the raw
    // frame, and the id for OK is read from its first bytes.
    // An event costs one token per started 2 KiB, so a flood of large or tag-heavy events is
    // held to a byte rate; a client past its budget is also not read from for a second.
    // Member nodes that replicate are not rate-limited (replication/).
    if (text.startsWith('["EVENT"') && !this.ctx.isMember(conn)) {
      const nowMs = this.ctx.clock.nowMs()
      const cost = 1 + Math.floor(bytes / 2048)
      const limited = !conn.eventBudget.take(nowMs, cost)
        ? 'slow down: too many events from this connection'
        : !this.ipEventBudget(conn.ip).take(nowMs, cost)
          ? 'slow down: too many events from your address'
          : null
      if (limited) {
        conn.throttle(1000)
        const r = refuse('rate-limited', 'event-rate', limited)
        const id = EVENT_ID.exec(text)?.[1]
        if (id) return refused({ type: 'OK', id, refusal: r })
        return refused({ type: 'NOTICE', rule: 'event-rate', text: refusalText(r), refusal: r })
      }
    }
    const parsed = parseClientMessage(text)
    if (!parsed.ok) {
      const text = `invalid: ${parsed.reason}`
      if (parsed.subId) return refused({ type: 'CLOSED', subId: parsed.subId, text })
      return refused({ type: 'NOTICE', rule: 'malformed', text })
    }
    return { type: 'message', message: parsed.message }
  }

  /** Sends a refused frame's answer, counting it. */
  answer(conn: Connection, answer: FrameAnswer): void {
    const { metrics } = this.ctx
    switch (answer.type) {
      case 'OK':
        metrics.eventsRefused.inc({ prefix: answer.refusal.prefix, rule: answer.refusal.rule })
        conn.send(okMessage(answer.id, false, refusalText(answer.refusal)))
        return
      case 'NOTICE':
        if (answer.refusal) {
          metrics.eventsRefused.inc({ prefix: answer.refusal.prefix, rule: answer.refusal.rule })
        }
        metrics.notices.inc({ rule: answer.rule })
        conn.send(noticeMessage(answer.text))
        return
      case 'CLOSED':
        conn.send(closedMessage(answer.subId, answer.text))
        return
    }
  }

  /** The REQ and COUNT budget of an address (all its connections together). */
  /**
   * The send-buffer bound of one connection: its address's budget shared among the address's
   * open connections (limits.maxSendBufferBytesPerIp), within [64 KiB, limits.maxSendBufferBytes].
   * A hundred non-reading connections from one address then hold about the address's budget
   * in all, not a hundred times the connection bound.
   */
  sendBufferBound(conn: Connection): number {
    const { maxSendBufferBytes, maxSendBufferBytesPerIp } = this.ctx.config.limits
    const share = Math.floor(
      maxSendBufferBytesPerIp / Math.max(1, this.ipConnections.get(conn.ip) ?? 1),
    )
    return Math.min(maxSendBufferBytes, Math.max(64 * 1024, share))
  }

  ipQueryBudget(ip: string): TokenBucket {
    return this.budget(this.ipQueryBudgets, ip, this.ctx.config.limits.queriesPerSecondPerIp)
  }

  private ipEventBudget(ip: string): TokenBucket {
    return this.budget(this.ipEventBudgets, ip, this.ctx.config.limits.eventsPerSecondPerIp)
  }

  private budget(budgets: Map<string, TokenBucket>, ip: string, rate: number): TokenBucket {
    let bucket = budgets.get(ip)
    if (!bucket) {
      bucket = new TokenBucket(rate, rate * 2, this.ctx.clock.nowMs())
      budgets.set(ip, bucket)
    }
    return bucket
  }

  /** Forgets full address buckets of addresses with no open connection (maintenance timer). */
  sweepIdleBudgets(): void {
    const now = this.ctx.clock.nowMs()
    for (const budgets of [this.ipEventBudgets, this.ipQueryBudgets]) {
      for (const [ip, bucket] of budgets) {
        if (!this.ipConnections.has(ip) && bucket.idle(now)) budgets.delete(ip)
      }
    }
  }
}

const refused = (answer: FrameAnswer): FrameVerdict => ({ type: 'refused', answer })
