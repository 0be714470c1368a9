// Ingest: what becomes of an EVENT. Shape (the seven NIP-01 fields), policy (rules that need
// no signature, so a flood of unwanted events costs no signature checks), verify (the worker
// pool), the services' onEvent hooks, then the single writer (event-writer.ts), which commits
// a turn's events in one transaction. The outcome is decided only once the commit returns, so
// OK true is never sent for an event a crash could lose. (The event rate was taken by
// admission, on the raw frame.) Events the node signs itself enter at the write (writeOwn).
import {
  type NostrEvent,
  eventJsonForms,
  eventShapeError,
  kindClass,
  serializeEvent,
} from '@hansa/protocol'
import type { WriteOutcome } from '../store/event-store.js'
import type { ConnectionInfo } from './connection.js'
import { policyRefusal } from './event-policy.js'
import { EventWriter } from './event-writer.js'
import type { IngestOutcome } from './messages.js'
import { refuse } from './refusal.js'
import { checkSignature } from './signature.js'
import type { StageContext } from './stage-context.js'

/** Bytes of accepted events waiting for the writer past which new ones are refused. */
const MAX_WRITE_QUEUE_BYTES = 64 * 1024 * 1024

export class Ingest {
  private readonly writer: EventWriter

  constructor(private readonly ctx: StageContext) {
    this.writer = new EventWriter(ctx.store, ctx.metrics.writeSeconds)
  }

  async ingest(conn: ConnectionInfo, value: unknown): Promise<IngestOutcome> {
    const { metrics } = this.ctx
    metrics.eventsReceived.inc()
    const shapeError = eventShapeError(value)
    if (shapeError) {
      const id = (value as { id?: unknown } | null)?.id
      const refusal = refuse('invalid', 'shape', shapeError)
      if (typeof id === 'string' && id.length <= 64) return { type: 'refused', id, refusal }
      return { type: 'malformed', refusal }
    }
    const event = value as NostrEvent
    const refused = (refusal: ReturnType<typeof refuse>): IngestOutcome => ({
      type: 'refused',
      id: event.id,
      refusal,
    })
    if (!this.ctx.accepting()) return refused(refuse('error', 'shutdown', 'node is shutting down'))
    const now = this.ctx.now()
    const policy = policyRefusal(event, this.ctx.config, now)
    if (policy) return refused(policy)

    // Serialised once, here: the preimage for the verify stage, raw for the store and readers.
    const forms = eventJsonForms(event)
    const check = await checkSignature(this.ctx, event, forms.preimage)
    if (check === 'bad-id') {
      return refused(refuse('invalid', 'bad-id', 'event id does not match its content'))
    }
    if (check === 'bad-sig') {
      return refused(refuse('invalid', 'bad-signature', 'signature verification failed'))
    }
    if (check === 'unavailable') {
      return refused(refuse('error', 'verifier', 'could not check the signature; try again'))
    }
    if (event.kind === 22242) {
      return refused(
        refuse(
          'invalid',
          'auth-as-event',
          'AUTH events (kind 22242) are sent with AUTH, not EVENT',
        ),
      )
    }

    for (const hook of this.ctx.hooks.onEvent) {
      const refusal = await hook(event, conn)
      if (refusal) return refused(refusal)
    }

    const cls = kindClass(event.kind)
    const raw = forms.raw
    if (cls === 'ephemeral') {
      this.shareEphemeral(raw)
      metrics.eventsStored.inc({ kind_class: cls })
      return { type: 'stored', event, raw }
    }
    if (this.writer.queuedBytes > MAX_WRITE_QUEUE_BYTES) {
      return refused(
        refuse('rate-limited', 'write-queue', 'the node is busy writing; try again shortly'),
      )
    }
    let outcome: WriteOutcome
    try {
      outcome = await this.writer.write({ event, raw, receivedAt: now })
    } catch (err) {
      this.ctx.log.error({ err, id: event.id }, 'write failed')
      return refused(refuse('error', 'store', 'could not store the event; try again'))
    }
    switch (outcome.status) {
      case 'stored':
        metrics.eventsStored.inc({ kind_class: cls })
        return { type: 'stored', event, raw }
      case 'duplicate':
        metrics.eventsDuplicate.inc()
        return { type: 'duplicate', id: event.id, message: 'duplicate: already have this event' }
      case 'superseded':
        metrics.eventsStored.inc({ kind_class: cls })
        return {
          type: 'duplicate',
          id: event.id,
          message: 'duplicate: a newer version of this event is already stored',
        }
      case 'deleted':
        return refused(refuse('blocked', 'deleted', 'this event was deleted by its author'))
    }
  }

  /**
   * Stores an event the node made itself (signed with its key); no stage before the write
   * runs. Resolves once it is committed, with the event's raw JSON for fan-out.
   */
  async writeOwn(event: NostrEvent): Promise<{ status: WriteOutcome['status']; raw: string }> {
    const cls = kindClass(event.kind)
    const raw = serializeEvent(event)
    if (cls === 'ephemeral') this.shareEphemeral(raw)
    const outcome =
      cls === 'ephemeral'
        ? { status: 'stored' as const }
        : await this.writer.write({ event, raw, receivedAt: this.ctx.now() })
    if (outcome.status === 'stored') this.ctx.metrics.eventsStored.inc({ kind_class: cls })
    return { status: outcome.status, raw }
  }

  /** Resolves when every event accepted so far is committed. */
  drain(): Promise<void> {
    return this.writer.drain()
  }

  /** Ephemeral events reach the other processes of the node too; best effort, never stored. */
  private shareEphemeral(raw: string): void {
    this.ctx.store
      .shareEphemeral?.(raw)
      .catch((err) => this.ctx.log.warn({ err }, 'could not share an ephemeral event'))
  }
}
