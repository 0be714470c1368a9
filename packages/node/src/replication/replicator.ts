// Replication between member nodes (docs/replication.md): every member node of a service holds
// what the service shares (its `replication` filters, plus deletions naming its kinds).
//
// Live path: PUSH. An event this node accepts from a client (or publishes itself, as the order
// book does) and that a service shares is sent as EVENT to every peer of that service over an
// outbound connection authenticated (NIP-42) with this node's key; the peer checks it like any
// event (signature, policy, the service's hooks) and answers OK. Loops and echoes are
// prevented by one rule: an event that arrived from a member node (pushed to us, or fetched by
// catch-up and ingested through our own relay on a member-authenticated connection) is never
// pushed on. Every member pushes what it accepted to every other member (a full mesh, the
// manifest is small), so nothing needs a second hop; what a push misses (a peer that was down,
// a queue that overflowed) the catch-up finds.
//
// Catch-up: NIP-77 negentropy as the initiator, per peer and shared filter — at start, when
// the manifest changes, when a peer comes back, and on a jittered timer. Catch-up PULLS: ids
// we lack are fetched (REQ by ids, the next batch on its way while one is written) and handed
// to our own relay's ingest stage in process, as from a connection authenticated as this node,
// so they pass the same checks as any event, in batches the verifier and the writer take
// whole (no second serialisation, no loopback socket); ids the peer lacks are
// only counted, since the peer's own catch-up with us (it runs the same schedule) fetches them —
// pushing them too would send everything twice. Catch-ups run one at a time per node, so an
// empty node that lacks the same events at every peer fetches them once.
import { type Manifest, type NostrEvent, matchFilters } from '@hansa/protocol'
import type { Logger } from 'pino'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { NodeConfig } from '../config.js'
import type { ConnectionInfo } from '../relay/connection.js'
import type { EventStore } from '../store/event-store.js'
import { PeerSocket } from './peer-socket.js'
import {
  DELETION_KIND,
  type Peer,
  type SharedService,
  memberNodeKeys,
  peerFilters,
  replicationPeers,
  sharedFilters,
} from './peers.js'

export type ReplicatorOptions = {
  config: NodeConfig
  nodeKey: { pubkey: string; secretKey: Uint8Array }
  /**
   * This node's ingest, for what catch-up fetched: each event through the relay's ingest stage
   * (shape, policy, signature, the services' hooks) as from a member node, in one batch.
   */
  ingest: (events: readonly NostrEvent[]) => Promise<Array<{ stored: boolean }>>
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
  /** Seconds the oldest event not yet acknowledged by the peer has waited (0: none). */
  lagSeconds: number
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

const FETCH_BATCH = 500
const PUSH_WINDOW = 64
const MAX_BACKOFF_MS = 30_000

export class Replicator {
  private readonly links = new Map<string, PeerLink>()
  private members = new Set<string>()
  private membersOf: Manifest | null = null
  private stopped = false
  /** Catch-ups run one at a time: a node that lacks the same events at three peers fetches them once. */
  private catchUps: Promise<unknown> = Promise.resolve()
  readonly metrics: ReplicationMetrics

  /** Each service with the filters it shares (its own and its deletions), computed once. */
  private readonly shared: SharedService[]

  constructor(readonly options: ReplicatorOptions) {
    this.shared = options.services.map((s) => ({ name: s.name, filters: sharedFilters(s) }))
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
   * An event this node stored (OK true). From a client or the node itself (`from` null): push
   * it to the peers of each service that shares it. From a member node: count it, push nothing.
   */
  onStored(event: NostrEvent, from: ConnectionInfo | null): void {
    if (!this.enabled || this.links.size === 0) return
    if (from && this.isMemberConnection(from)) {
      for (const pubkey of from.authed) {
        if (pubkey !== this.options.nodeKey.pubkey) this.links.get(pubkey)?.received(1)
      }
      return
    }
    const services = this.shared.filter((s) => matchFilters(s.filters, event))
    if (services.length === 0 && event.kind !== DELETION_KIND) return
    // One EVENT frame, serialised once for every peer.
    let message: string | undefined
    const frame = () => {
      message ??= JSON.stringify(['EVENT', event])
      return message
    }
    for (const link of this.links.values()) {
      if (services.some((s) => link.peer.services.includes(s.name))) link.push(event, frame())
      else if (event.kind === DELETION_KIND && services.length === 0) {
        link.push(event, frame(), true)
      }
    }
  }

  /** Events fetched from a peer, into this node's own ingest (checked like any event). */
  ingest(events: readonly NostrEvent[]): Promise<Array<{ stored: boolean }>> {
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

type Pending = { event: NostrEvent; message: string; at: number }

/** This node's side of one peer: the connection, the push queue and the catch-up. */
export class PeerLink {
  private socket: PeerSocket | null = null
  private connecting = false
  private stopped = false
  private backoffMs = 1000
  private retry: NodeJS.Timeout | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly queue: Pending[] = []
  private readonly inFlight = new Map<string, number>()
  private reconciling: Promise<void> | null = null
  private pumpScheduled = false
  private stallTimer: NodeJS.Timeout | undefined
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
    this.stallTimer = setInterval(() => this.checkStalled(), 1000)
    this.stallTimer.unref()
  }

  update(peer: Peer): void {
    this.peer = peer
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retry)
    clearTimeout(this.timer)
    clearInterval(this.stallTimer)
    this.socket?.close()
    this.socket = null
    this.queue.length = 0
  }

  received(n: number): void {
    this.got += n
    this.owner.metrics.received.inc(this.label, n)
  }

  /** Queues an event for the peer (bounded: past the bound the oldest is dropped). */
  push(event: NostrEvent, message: string, deletionOnly = false): void {
    if (this.stopped) return
    // A deletion that names no shared kind still goes out if it names events by id: the peer
    // applies it only to its author's own events, so passing it on costs one check.
    if (deletionOnly && !event.tags.some((t) => t[0] === 'e')) return
    this.queue.push({ event, message, at: Date.now() })
    if (this.queue.length > this.opts.config.replication.pushQueue) {
      this.queue.shift()
      this.owner.metrics.dropped.inc(this.label)
      this.again = true // the catch-up will carry what was dropped
    }
    this.schedulePump()
  }

  /**
   * Pushes run once per turn of the event loop: the events a write batch accepted leave in one
   * corked socket write per peer, not one system call each.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private pump(): void {
    const socket = this.socket
    if (!socket?.open) return
    socket.corked(() => this.sendWindow(socket))
  }

  private sendWindow(socket: PeerSocket): void {
    while (this.queue.length > 0 && this.inFlight.size < PUSH_WINDOW) {
      const item = this.queue.shift()!
      this.inFlight.set(item.event.id, item.at)
      try {
        socket.sendFrame(item.message)
      } catch {
        this.inFlight.delete(item.event.id)
        this.again = true // lost with the connection: the catch-up after reconnecting finds it
        return
      }
    }
  }

  /** The peer's OK for a pushed event. */
  private acknowledged(id: string, ok: boolean, message: string): void {
    const at = this.inFlight.get(id)
    if (at === undefined) return
    this.inFlight.delete(id)
    if (ok) {
      this.sent++
      this.owner.metrics.sent.inc(this.label)
      this.owner.metrics.pushSeconds.set(this.label, (Date.now() - at) / 1000)
    } else {
      this.owner.metrics.refused.inc(this.label)
      this.opts.log.debug(
        { peer: this.peer.pubkey, id, reason: message },
        'replication: peer refused an event',
      )
    }
    this.schedulePump()
  }

  /**
   * A peer that leaves a pushed event unanswered past the timeout is treated as gone: the link
   * is closed, reconnects with backoff and catches up.
   */
  private checkStalled(): void {
    const socket = this.socket
    if (!socket?.open || this.inFlight.size === 0) return
    const oldest = this.inFlight.values().next().value as number
    if (Date.now() - oldest <= this.timeoutMs) return
    this.opts.log.warn({ peer: this.peer.pubkey }, 'replication: peer stopped answering pushes')
    this.lastError = `no OK within ${this.timeoutMs} ms`
    socket.close()
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
      socket.onOk = (id, ok, message) => this.acknowledged(id, ok, message)
      this.backoffMs = 1000
      this.lastError = null
      this.owner.metrics.up.set(this.label, 1)
      socket.onClose = (reason) => {
        this.owner.metrics.up.set(this.label, 0)
        // What was in flight is lost with the connection; the catch-up after reconnecting finds it.
        if (this.inFlight.size > 0) this.again = true
        this.inFlight.clear()
        if (this.stopped) return
        this.lastError = `disconnected: ${reason}`
        this.reconnectLater()
      }
      this.opts.log.info({ peer: this.peer.pubkey, url: this.peer.url }, 'replication: connected')
      this.pump()
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
        const result = await socket.reconcile(
          filter,
          local,
          config.replication.negentropyFrameBytes,
        )
        bytes += result.bytes
        peerLacks += result.have.length
        fetched += await this.fetchInto(socket, result.need)
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

  /**
   * Fetches the ids from the peer, a batch at a time, into this node's ingest; the next batch
   * travels while this one is checked and written.
   */
  private async fetchInto(socket: PeerSocket, ids: readonly string[]): Promise<number> {
    const fetchFrom = (i: number) => {
      const batch = ids.slice(i, i + FETCH_BATCH)
      const fetching = socket.fetch({ ids: batch, limit: batch.length })
      fetching.catch(() => {}) // awaited below; a failure is not left unhandled meanwhile
      return fetching
    }
    let stored = 0
    let next = ids.length > 0 ? fetchFrom(0) : null
    for (let i = 0; next !== null; i += FETCH_BATCH) {
      const events = await next
      next = i + FETCH_BATCH < ids.length ? fetchFrom(i + FETCH_BATCH) : null
      const results = await this.owner.ingest(events)
      const ok = results.filter((r) => r.stored).length
      stored += ok
      if (ok > 0) this.received(ok)
    }
    return stored
  }

  status(): PeerStatus {
    const pending = [...this.inFlight.values(), ...this.queue.map((q) => q.at)]
    const oldest = pending.length > 0 ? Math.min(...pending) : null
    const lagSeconds = oldest === null ? 0 : (Date.now() - oldest) / 1000
    this.owner.metrics.lag.set(this.label, lagSeconds)
    return {
      pubkey: this.peer.pubkey,
      coordinator: this.peer.coordinator,
      url: this.peer.url,
      services: [...this.peer.services],
      connected: this.socket?.open ?? false,
      lagSeconds,
      queued: this.queue.length + this.inFlight.size,
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
      help: 'Seconds the oldest event not yet acknowledged by the peer has waited (0: in step)',
      labelNames: peer,
      registers,
      collect: collectLag,
    }),
    pushSeconds: new Gauge({
      name: 'hansa_replication_push_seconds',
      help: 'From accepting an event to the peer acknowledging it, for the last event pushed',
      labelNames: peer,
      registers,
    }),
    sent: new Counter({
      name: 'hansa_replication_events_sent_total',
      help: 'Events a peer accepted from this node (pushed live)',
      labelNames: peer,
      registers,
    }),
    received: new Counter({
      name: 'hansa_replication_events_received_total',
      help: 'Events this node stored from a peer (pushed to it or fetched by catch-up)',
      labelNames: peer,
      registers,
    }),
    refused: new Counter({
      name: 'hansa_replication_events_refused_total',
      help: 'Events a peer refused (OK false) when this node pushed them',
      labelNames: peer,
      registers,
    }),
    dropped: new Counter({
      name: 'hansa_replication_queue_dropped_total',
      help: 'Events dropped from a full push queue (the next catch-up carries them)',
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
        m.pushSeconds,
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
