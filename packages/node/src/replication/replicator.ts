// Replication between member nodes (docs/replication.md): every member node of a service holds
// what the service shares (its `replication` filters, plus every deletion).
//
// Live path: a LIVE SUBSCRIPTION. Each node holds, at every peer of a service, one REQ over an
// outbound connection authenticated (NIP-42) with its node key, for the filters they share,
// asking no stored events (`limit: 0`). What the peer stores from a client (or publishes
// itself, as the order book does) its fan-out sends here as it sends it to any subscriber: one
// server-side frame built from the stored JSON, no mask, no OK. This node checks each event
// like any other (signature, policy, the service's hooks) in batches through its own ingest
// stage. Echoes and loops are prevented by one rule in fan-out: an event that arrived from a
// member node (live, or fetched by catch-up) is never delivered to a member node's
// subscription. Every member subscribes at every other member (a full mesh, the manifest is
// small), so nothing needs a second hop; what the subscription misses (a peer that was down, a
// queue that overflowed, a connection that dropped) the catch-up finds.
//
// Catch-up: NIP-77 negentropy as the initiator, per peer and shared filter — at start, when
// the manifest changes, when a peer comes back, and on a jittered timer. Catch-up PULLS: ids
// we lack are fetched (REQ by ids, a few batches in flight while one is written) and handed
// to our own relay's ingest stage in process, as from a connection authenticated as this node,
// so they pass the same checks as any event, in batches the verifier and the writer take
// whole (no second serialisation, no loopback socket); ids the peer lacks are
// only counted, since the peer's own catch-up with us (it runs the same schedule) fetches them —
// pushing them too would send everything twice. Catch-ups run one at a time per node, so an
// empty node that lacks the same events at every peer fetches them once.
import type { Manifest, NostrEvent } from '@hansa/protocol'
import type { Logger } from 'pino'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { NodeConfig } from '../config.js'
import type { ConnectionInfo } from '../relay/connection.js'
import type { EventStore } from '../store/event-store.js'
import { PeerSocket } from './peer-socket.js'
import {
  type Peer,
  type SharedService,
  memberNodeKeys,
  peerFilters,
  replicationPeers,
} from './peers.js'

export type ReplicatorOptions = {
  config: NodeConfig
  nodeKey: { pubkey: string; secretKey: Uint8Array }
  /**
   * This node's ingest, for what catch-up fetched: each event through the relay's ingest stage
   * (shape, policy, signature, the services' hooks) as from a member node, in one batch.
   */
  ingest: (events: readonly NostrEvent[]) => Promise<Array<{ stored: boolean; refused: boolean }>>
  store: EventStore
  /** The node's services that declare a replication filter. */
  services: readonly SharedService[]
  manifest: () => Manifest | null
  log: Logger
  registry: Registry
  now: () => number
}

/** One row of `hansa federation sync-status`. */
export type PeerStatus = {
  pubkey: string
  coordinator: string
  url: string
  services: string[]
  connected: boolean
  /** Seconds the oldest event received live from the peer has waited to be stored (0: none). */
  lagSeconds: number
  /** Events received live from the peer and not yet stored here. */
  queued: number
  eventsSent: number
  eventsReceived: number
  lastError: string | null
  lastReconcile: {
    /** Unix seconds when it finished. */
    at: number
    durationMs: number
    bytes: number
    /** Events fetched from the peer and stored here. */
    fetched: number
    /** Events the peer lacks: it fetches them in its own catch-up with this node. */
    peerLacks: number
    error: string | null
  } | null
}

/** Ids per REQ: the relay's default `maxLimit`. */
const FETCH_BATCH = 500
/** Fetches in flight: one being answered while the last one is written. */
const FETCH_AHEAD = 2
const MAX_BACKOFF_MS = 30_000

export class Replicator {
  private readonly links = new Map<string, PeerLink>()
  private members = new Set<string>()
  private membersOf: Manifest | null = null
  private stopped = false
  /** Catch-ups run one at a time: a node that lacks the same events at three peers fetches them once. */
  private catchUps: Promise<unknown> = Promise.resolve()
  readonly metrics: ReplicationMetrics

  constructor(readonly options: ReplicatorOptions) {
    this.metrics = replicationMetrics(options.registry, () => {
      for (const link of this.links.values()) link.status() // sets each peer's lag
    })
  }

  get enabled(): boolean {
    return this.options.config.replication.enabled
  }

  /** Starts (or follows a new manifest): links to the peers it lists, each caught up. */
  refresh(): void {
    if (this.stopped || !this.enabled) return
    const peers = replicationPeers(
      this.options.manifest(),
      this.options.nodeKey.pubkey,
      this.options.services,
    )
    for (const [pubkey, link] of this.links) {
      if (peers.has(pubkey)) continue
      link.stop()
      this.links.delete(pubkey)
      this.metrics.forget(pubkey)
      this.options.log.info({ peer: pubkey }, 'replication: peer left the manifest')
    }
    for (const [pubkey, peer] of peers) {
      const link = this.links.get(pubkey)
      if (link) {
        link.update(peer)
        link.requestReconcile('manifest change')
      } else {
        const added = new PeerLink(this, peer)
        this.links.set(pubkey, added)
        this.options.log.info({ peer: pubkey, url: peer.url }, 'replication: new peer')
        added.start()
      }
    }
  }

  /** Is this connection a member node (authenticated with a key the manifest lists)? */
  isMemberConnection(conn: ConnectionInfo): boolean {
    if (conn.authed.size === 0) return false
    const manifest = this.options.manifest()
    if (manifest !== this.membersOf) {
      this.membersOf = manifest
      this.members = memberNodeKeys(manifest)
    }
    for (const pubkey of conn.authed) if (this.members.has(pubkey)) return true
    return false
  }

  /**
   * An event this node served: stored from a member connection (counted as received from
   * that peer, when it is not this node's own catch-up), or delivered live to a member
   * node's subscription (counted as sent to that peer).
   */
  onServed(verb: 'EVENT' | 'LIVE' | string, conn: ConnectionInfo): void {
    if (!this.enabled || this.links.size === 0) return
    if ((verb !== 'EVENT' && verb !== 'LIVE') || !this.isMemberConnection(conn)) return
    for (const pubkey of conn.authed) {
      if (pubkey === this.options.nodeKey.pubkey) continue
      const link = this.links.get(pubkey)
      if (verb === 'LIVE') link?.sentLive(1)
      else link?.received(1)
    }
  }

  /** Events fetched from a peer, into this node's own ingest (checked like any event). */
  ingest(events: readonly NostrEvent[]): Promise<Array<{ stored: boolean; refused: boolean }>> {
    return this.options.ingest(events)
  }

  status(): PeerStatus[] {
    return [...this.links.values()].map((l) => l.status())
  }

  /** Reconciles every peer now; resolves when all are done (tests, `POST` on demand). */
  async reconcileAll(reason = 'on demand'): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.reconcileNow(reason)))
  }

  /** Runs `task` after every catch-up queued before it. */
  serialise<T>(task: () => Promise<T>): Promise<T> {
    const run = this.catchUps.then(task, task)
    this.catchUps = run.catch(() => {})
    return run
  }

  link(pubkey: string): PeerLink | undefined {
    return this.links.get(pubkey)
  }

  stop(): void {
    this.stopped = true
    for (const link of this.links.values()) link.stop()
    this.links.clear()
  }
}

type Arrived = { event: unknown; at: number }

/** This node's side of one peer: the connection, the live subscription and the catch-up. */
export class PeerLink {
  private socket: PeerSocket | null = null
  private connecting = false
  private stopped = false
  private backoffMs = 1000
  private retry: NodeJS.Timeout | undefined
  private timer: NodeJS.Timeout | undefined
  /** A failed catch-up is tried again soon (with backoff), not only at the next trigger. */
  private retryCatchUp: NodeJS.Timeout | undefined
  private failures = 0
  /** Events the live subscription brought, waiting for this node's ingest (bounded). */
  private readonly incoming: Arrived[] = []
  /** When the batch being ingested arrived (its oldest event); null when none is. */
  private ingestingSince: number | null = null
  private drainScheduled = false
  private reconciling: Promise<void> | null = null
  private again = false
  private sent = 0
  private got = 0
  private lastError: string | null = null
  private last: PeerStatus['lastReconcile'] = null

  constructor(
    private readonly owner: Replicator,
    public peer: Peer,
  ) {}

  private get opts() {
    return this.owner.options
  }

  private get timeoutMs() {
    return this.opts.config.replication.timeoutSeconds * 1000
  }

  private get label() {
    return { peer: this.peer.pubkey }
  }

  start(): void {
    void this.connect()
    this.schedule()
  }

  update(peer: Peer): void {
    this.peer = peer
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retry)
    clearTimeout(this.timer)
    clearTimeout(this.retryCatchUp)
    this.socket?.close()
    this.socket = null
    this.incoming.length = 0
  }

  received(n: number): void {
    this.got += n
    this.owner.metrics.received.inc(this.label, n)
  }

  sentLive(n: number): void {
    this.sent += n
    this.owner.metrics.sent.inc(this.label, n)
  }

  /** An event of the live subscription: queued (bounded: past it the oldest is dropped). */
  private arrived(event: unknown): void {
    if (this.stopped) return
    this.incoming.push({ event, at: Date.now() })
    if (this.incoming.length > this.opts.config.replication.liveQueue) {
      this.incoming.shift()
      this.owner.metrics.dropped.inc(this.label)
      this.again = true // the catch-up after this batch carries what was dropped
    }
    this.scheduleDrain()
  }

  /**
   * The events of one turn of the event loop (one socket read brings many) go to the ingest
   * as one batch: the verifier and the writer take them whole.
   */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.ingestingSince !== null) return
    this.drainScheduled = true
    setImmediate(() => {
      this.drainScheduled = false
      void this.drain()
    })
  }

  private async drain(): Promise<void> {
    if (this.ingestingSince !== null) return
    while (this.incoming.length > 0 && !this.stopped) {
      const batch = this.incoming.splice(0, FETCH_BATCH)
      this.ingestingSince = batch[0]!.at
      try {
        const results = await this.owner.ingest(batch.map((a) => a.event as NostrEvent))
        let ok = 0
        let refused = 0
        for (const r of results) {
          if (r.stored) ok++
          else if (r.refused) refused++
        }
        if (ok > 0) this.received(ok)
        if (refused > 0) this.owner.metrics.refused.inc(this.label, refused)
        this.owner.metrics.liveSeconds.set(this.label, (Date.now() - batch[0]!.at) / 1000)
      } catch (err) {
        this.opts.log.error({ err, peer: this.peer.pubkey }, 'replication: live ingest failed')
        this.again = true
      } finally {
        this.ingestingSince = null
      }
    }
    if (this.again && !this.stopped && this.reconciling === null) {
      this.requestReconcile('live queue overflowed')
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting || this.socket?.open) return
    this.connecting = true
    try {
      const socket = await PeerSocket.connect(this.peer.url, this.timeoutMs)
      await socket.authenticate(this.opts.nodeKey.secretKey, this.peer.url)
      if (this.stopped) {
        socket.close()
        return
      }
      this.socket = socket
      this.backoffMs = 1000
      this.lastError = null
      this.owner.metrics.up.set(this.label, 1)
      socket.onClose = (reason) => {
        this.owner.metrics.up.set(this.label, 0)
        if (this.stopped) return
        this.lastError = `disconnected: ${reason}`
        this.reconnectLater()
      }
      // The live subscription first, then the catch-up: what is stored at the peer between
      // the two arrives live, what was stored before is found by the catch-up.
      socket.subscribe(
        peerFilters(this.peer, this.opts.services),
        (event) => this.arrived(event),
        (reason) => {
          this.lastError = `live subscription closed: ${reason}`
          this.opts.log.warn({ peer: this.peer.pubkey, reason }, 'replication: live closed')
          socket.close() // reconnects with backoff, subscribes again and catches up
        },
      )
      this.opts.log.info({ peer: this.peer.pubkey, url: this.peer.url }, 'replication: connected')
      void this.reconcileNow('peer connected')
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err)
      this.owner.metrics.up.set(this.label, 0)
      this.reconnectLater()
    } finally {
      this.connecting = false
    }
  }

  private reconnectLater(): void {
    if (this.stopped) return
    clearTimeout(this.retry)
    const wait = this.backoffMs * (0.75 + Math.random() / 2)
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS)
    this.retry = setTimeout(() => void this.connect(), wait)
    this.retry.unref()
  }

  /** The jittered timer: half to one and a half times the interval. */
  private schedule(): void {
    clearTimeout(this.timer)
    const base = this.opts.config.replication.reconcileIntervalSeconds * 1000
    this.timer = setTimeout(
      () => {
        void this.reconcileNow('timer')
        this.schedule()
      },
      base * (0.5 + Math.random()),
    )
    this.timer.unref()
  }

  requestReconcile(reason: string): void {
    void this.reconcileNow(reason)
  }

  /** Runs a catch-up now (or once more after the one running). */
  async reconcileNow(reason: string): Promise<void> {
    if (this.reconciling) {
      this.again = true
      return this.reconciling
    }
    this.reconciling = (async () => {
      do {
        this.again = false
        await this.owner.serialise(() => this.reconcileOnce(reason))
      } while (this.again && !this.stopped && this.socket?.open)
    })().finally(() => {
      this.reconciling = null
    })
    return this.reconciling
  }

  private async reconcileOnce(reason: string): Promise<void> {
    const socket = this.socket
    if (this.stopped || !socket?.open) return
    const started = performance.now()
    const { store, config, now } = this.opts
    const all = { privateKinds: [], readerPubkeys: [] }
    let bytes = 0
    let fetched = 0
    let peerLacks = 0
    let error: string | null = null
    try {
      for (const filter of peerFilters(this.peer, this.opts.services)) {
        const local = await store.syncItems(filter, {
          ...all,
          now: now(),
          max: config.replication.negentropyMaxRecords,
        })
        if (local === null) {
          throw new Error(
            `more than ${config.replication.negentropyMaxRecords} local events match ${JSON.stringify(filter)}`,
          )
        }
        // The fetch starts with the first round's ids, while later rounds are still being
        // reconciled: a peer that lacks 100,000 events answers them ~1,800 ids a frame.
        const fetcher = new CatchUpFetch(socket, (events) => this.store(events))
        let result: Awaited<ReturnType<PeerSocket['reconcile']>>
        try {
          result = await socket.reconcile(
            filter,
            local,
            config.replication.negentropyFrameBytes,
            (id) => fetcher.add(id),
          )
        } catch (err) {
          fetched += await fetcher.finish().catch(() => 0)
          throw err
        }
        bytes += result.bytes
        peerLacks += result.have.length
        fetched += await fetcher.finish()
      }
      this.owner.metrics.reconciles.inc({ ...this.label, result: 'ok' })
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
      this.lastError = error
      this.owner.metrics.reconciles.inc({ ...this.label, result: 'error' })
      this.opts.log.warn(
        { peer: this.peer.pubkey, err: error, reason },
        'replication: catch-up failed',
      )
    }
    const durationMs = performance.now() - started
    this.last = { at: now(), durationMs, bytes, fetched, peerLacks, error }
    clearTimeout(this.retryCatchUp)
    if (error === null) this.failures = 0
    else if (!this.stopped) {
      // A peer too busy to answer a fetch in time (its query bound) is asked again shortly.
      this.failures++
      const wait = Math.min(60_000, 2000 * 2 ** (this.failures - 1)) * (0.75 + Math.random() / 2)
      this.retryCatchUp = setTimeout(() => void this.reconcileNow('retry after an error'), wait)
      this.retryCatchUp.unref()
    }
    this.owner.metrics.reconcileSeconds.set(this.label, durationMs / 1000)
    this.owner.metrics.reconcileBytes.set(this.label, bytes)
    this.owner.metrics.lastReconcile.set(this.label, now())
    if (fetched > 0 || error) {
      this.opts.log.info(
        {
          peer: this.peer.pubkey,
          reason,
          fetched,
          peerLacks,
          bytes,
          ms: Math.round(durationMs),
          error,
        },
        'replication: caught up',
      )
    }
  }

  /** Events fetched by catch-up, into this node's ingest; how many were stored. */
  private async store(events: readonly NostrEvent[]): Promise<number> {
    const results = await this.owner.ingest(events)
    let ok = 0
    for (const r of results) if (r.stored) ok++
    if (ok > 0) this.received(ok)
    return ok
  }

  status(): PeerStatus {
    const oldest = this.ingestingSince ?? this.incoming[0]?.at ?? null
    const lagSeconds = oldest === null ? 0 : (Date.now() - oldest) / 1000
    this.owner.metrics.lag.set(this.label, lagSeconds)
    return {
      pubkey: this.peer.pubkey,
      coordinator: this.peer.coordinator,
      url: this.peer.url,
      services: [...this.peer.services],
      connected: this.socket?.open ?? false,
      lagSeconds,
      queued: this.incoming.length,
      eventsSent: this.sent,
      eventsReceived: this.got,
      lastError: this.lastError,
      lastReconcile: this.last,
    }
  }
}

export type ReplicationMetrics = ReturnType<typeof replicationMetrics>

function replicationMetrics(registry: Registry, collectLag: () => void) {
  const registers = [registry]
  const peer = ['peer'] as const
  const m = {
    up: new Gauge({
      name: 'hansa_replication_peer_up',
      help: 'Whether the replication connection to a peer member node is open (1) or not (0)',
      labelNames: peer,
      registers,
    }),
    lag: new Gauge({
      name: 'hansa_replication_lag_seconds',
      help: 'Seconds the oldest event received live from the peer has waited to be stored here (0: in step)',
      labelNames: peer,
      registers,
      collect: collectLag,
    }),
    liveSeconds: new Gauge({
      name: 'hansa_replication_live_seconds',
      help: 'From a live event arriving from the peer to its batch being stored here, last batch',
      labelNames: peer,
      registers,
    }),
    sent: new Counter({
      name: 'hansa_replication_events_sent_total',
      help: 'Events this node sent live to the peer (delivered to its subscription)',
      labelNames: peer,
      registers,
    }),
    received: new Counter({
      name: 'hansa_replication_events_received_total',
      help: 'Events this node stored from a peer (live or fetched by catch-up)',
      labelNames: peer,
      registers,
    }),
    refused: new Counter({
      name: 'hansa_replication_events_refused_total',
      help: 'Events from the peer that this node refused (its checks, as for any event)',
      labelNames: peer,
      registers,
    }),
    dropped: new Counter({
      name: 'hansa_replication_queue_dropped_total',
      help: 'Live events from the peer dropped from a full queue (the next catch-up carries them)',
      labelNames: peer,
      registers,
    }),
    reconciles: new Counter({
      name: 'hansa_replication_reconciles_total',
      help: 'Negentropy catch-ups with a peer, by result (ok, error)',
      labelNames: ['peer', 'result'] as const,
      registers,
    }),
    reconcileSeconds: new Gauge({
      name: 'hansa_replication_last_reconcile_seconds',
      help: 'How long the last catch-up with the peer took',
      labelNames: peer,
      registers,
    }),
    reconcileBytes: new Gauge({
      name: 'hansa_replication_last_reconcile_bytes',
      help: 'Negentropy bytes (both ways) of the last catch-up with the peer',
      labelNames: peer,
      registers,
    }),
    lastReconcile: new Gauge({
      name: 'hansa_replication_last_reconcile_timestamp_seconds',
      help: 'When the last catch-up with the peer finished (Unix seconds)',
      labelNames: peer,
      registers,
    }),
    /** Drops a removed peer's series. */
    forget(pubkey: string) {
      for (const metric of [
        m.up,
        m.lag,
        m.liveSeconds,
        m.sent,
        m.received,
        m.refused,
        m.dropped,
        m.reconcileSeconds,
        m.reconcileBytes,
        m.lastReconcile,
      ]) {
        metric.remove({ peer: pubkey })
      }
    },
  }
  return m
}

/**
 * Fetches ids from a peer as a reconciliation finds them, a batch at a time (FETCH_BATCH per
 * REQ, FETCH_AHEAD requests in flight, so the peer's reads and this node's writes overlap) into
 * `store`, one batch after the other. `finish` waits for the last and gives how many were
 * stored; the first failure (a refused or timed-out REQ) fails it.
 */
class CatchUpFetch {
  private readonly pending: string[] = []
  private readonly inFlight: Array<Promise<NostrEvent[]>> = []
  private closed = false
  private stored = 0
  private failure: unknown = null
  private draining: Promise<void> | null = null

  constructor(
    private readonly socket: PeerSocket,
    private readonly sink: (events: readonly NostrEvent[]) => Promise<number>,
  ) {}

  add(id: string): void {
    this.pending.push(id)
    if (this.pending.length >= FETCH_BATCH) this.fill()
  }

  async finish(): Promise<number> {
    this.closed = true
    this.fill()
    await this.draining
    if (this.failure !== null) throw this.failure
    return this.stored
  }

  private fill(): void {
    while (
      this.failure === null &&
      this.inFlight.length < FETCH_AHEAD &&
      (this.pending.length >= FETCH_BATCH || (this.closed && this.pending.length > 0))
    ) {
      const batch = this.pending.splice(0, FETCH_BATCH)
      const fetching = this.socket.fetch({ ids: batch, limit: batch.length })
      fetching.catch(() => {}) // awaited in drain; a failure is not left unhandled meanwhile
      this.inFlight.push(fetching)
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = null
    })
  }

  private async drain(): Promise<void> {
    while (this.inFlight.length > 0 && this.failure === null) {
      try {
        const events = await this.inFlight[0]!
        this.inFlight.shift()
        this.fill()
        this.stored += await this.sink(events)
      } catch (err) {
        this.failure = err
      }
    }
    this.inFlight.length = 0
  }
}
