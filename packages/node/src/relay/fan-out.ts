// Fan-out: every open subscription, and live delivery of each stored event to those it
// matches. Subscriptions are found through an index (subscription-index.ts), not by trying
// every filter. Private kinds (the inbox's gift wraps) reach only a connection authenticated
// as a `p`-tagged recipient, or a member node. A subscription whose stored events are still
// being read keeps what matches in its backlog (at most `limits.maxBacklog`, else it is
// closed); a connection past its send-buffer bound (`limits.maxSendBufferBytes`, less when
// its address has many connections: `limits.maxSendBufferBytesPerIp` shared among them) has
// its subscriptions closed, so nothing more queues for a client that does not read.
import { type NostrEvent, closedMessage, relayEventMessage } from '@hansa/protocol'
import type { Connection, ConnectionInfo, LiveDelivery, Subscription } from './connection.js'
import type { LiveEvent } from './messages.js'
import { type Refusal, refuse, refusalText } from './refusal.js'
import type { StageContext } from './stage-context.js'
import { SubscriptionIndex } from './subscription-index.js'

export class FanOut {
  /** Every open subscription, indexed for fan-out. */
  private readonly index = new SubscriptionIndex<Subscription>()

  constructor(private readonly ctx: StageContext) {}

  /** Opens a subscription (the query stage, for a REQ); its backlog fills until EOSE. */
  add(conn: Connection, sub: Subscription): void {
    this.ctx.metrics.subscriptions.inc()
    conn.subscriptions.set(sub.id, sub)
    this.index.add(sub)
  }

  /** Forgets a subscription (CLOSE, a replacing REQ, a refusal); false when there was none. */
  drop(conn: Connection, subId: string, only?: Subscription): boolean {
    const sub = conn.subscriptions.get(subId)
    if (!sub || (only !== undefined && sub !== only)) return false
    conn.subscriptions.delete(subId)
    this.index.remove(sub)
    this.ctx.metrics.subscriptions.dec()
    return true
  }

  /** Forgets every subscription of a connection that closed. */
  dropAll(conn: Connection): void {
    this.ctx.metrics.subscriptions.dec(conn.subscriptions.size)
    for (const sub of conn.subscriptions.values()) this.index.remove(sub)
    conn.subscriptions.clear()
  }

  /** Closes a subscription with a reason the client sees (CLOSED). */
  close(conn: Connection, sub: Subscription, rule: string, text: string): void {
    if (!this.drop(conn, sub.id, sub)) return
    this.ctx.metrics.queriesRefused.inc({ prefix: text.slice(0, text.indexOf(':')), rule })
    conn.send(closedMessage(sub.id, text))
  }

  /** A client that does not read: its subscriptions are closed, so nothing more queues for it. */
  slowReader(conn: Connection): void {
    const max = this.ctx.sendBufferBound(conn)
    for (const sub of [...conn.subscriptions.values()]) {
      this.close(
        conn,
        sub,
        'slow-reader',
        `error: you are not reading: more than ${max} bytes wait to be sent to you; subscriptions closed`,
      )
    }
  }

  /**
   * Sends a stored event to every open subscription it matches that may read it. Where services
   * meter what is served, each delivery is first put to the onDeliver hooks (a reader past her
   * threshold has the subscription closed) and then reported to onServed, like stored results.
   *
   * Replication's echo rule: an event that came from a member node (`origin`: its connection,
   * or the node's own catch-up and live ingest) is not delivered to member nodes' subscriptions
   * — each member has it from the member that accepted it (full mesh), so nothing loops.
   */
  deliver({ event, raw }: LiveEvent, origin?: ConnectionInfo): void {
    if (this.index.size === 0) return
    const fromMember = origin !== undefined && this.ctx.isMember(origin as Connection)
    const { maxBacklog } = this.ctx.config.limits
    const { onDeliver, onServed } = this.ctx.hooks
    const metered: LiveDelivery | undefined =
      onServed.length > 0 ? { verb: 'LIVE', event, bytes: Buffer.byteLength(raw) } : undefined
    for (const sub of this.index.matching(event)) {
      const conn = sub.conn
      if (conn.closed || !this.canRead(event, conn)) continue
      if (fromMember && this.ctx.isMember(conn)) continue
      if (onDeliver.length > 0) {
        const refusal = this.deliveryRefusal(event, conn)
        if (refusal) {
          this.close(conn, sub, refusal.rule, refusalText(refusal))
          continue
        }
      }
      const message = relayEventMessage(sub.id, raw)
      if (sub.backlog) {
        if (sub.backlog.length >= maxBacklog) {
          this.close(
            conn,
            sub,
            'backlog',
            `error: more than ${maxBacklog} new events arrived while your stored events were read; subscribe again with a narrower filter`,
          )
          continue
        }
        sub.backlog.push(metered ? { id: event.id, message, metered } : { id: event.id, message })
        continue
      }
      if (conn.buffered > this.ctx.sendBufferBound(conn)) {
        this.slowReader(conn)
        continue
      }
      conn.send(message)
      if (metered) this.ctx.served(conn, metered)
    }
  }

  private deliveryRefusal(event: NostrEvent, conn: Connection): Refusal | undefined {
    for (const hook of this.ctx.hooks.onDeliver) {
      try {
        const refusal = hook(event, conn)
        if (refusal) return refusal
      } catch (err) {
        this.ctx.log.error({ err }, 'onDeliver hook failed')
        return refuse('error', 'deliver-hook', 'the node could not decide on this delivery')
      }
    }
    return undefined
  }

  private canRead(event: NostrEvent, conn: Connection): boolean {
    if (!this.ctx.privateKinds.has(event.kind) || this.ctx.isMember(conn)) return true
    for (const tag of event.tags) {
      if (tag[0] === 'p' && tag[1] !== undefined && conn.authed.has(tag[1])) return true
    }
    return false
  }
}
