// One outbound Nostr connection of the replication (to a peer member node): it answers the
// peer's NIP-42 challenge with the node key, holds the live subscription to what the peer
// stores, reads stored events by id, publishes events and waits for their OK, and runs the
// initiator's side of a NIP-77 reconciliation. Every wait has a timeout and every refusal is an error with
// the peer's own words, so a peer that does not speak NIP-77 (or stops answering) fails a step
// with a clear message instead of hanging it. Bytes of negentropy frames are counted both ways.
import type { NostrEvent } from '@hansa/protocol'
import type { Filter } from '@hansa/protocol'
import { finalizeEvent } from 'nostr-tools/pure'
import WebSocket from 'ws'
import { PrefixSumStorage } from '../relay/negentropy-storage.js'
import { nip77 } from '../relay/nip77.js'

export class PeerError extends Error {
  override name = 'PeerError'
}

type Waiter = {
  match: (m: unknown[]) => boolean
  resolve: (m: unknown[]) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

export type ReconcileResult = {
  /** Ids this node has and the peer lacks. */
  have: string[]
  /** Ids the peer has and this node lacks. */
  need: string[]
  /** Negentropy frames' bytes, sent and received. */
  bytes: number
  rounds: number
}

type PendingOk = {
  resolve: (m: unknown[]) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

let nextSub = 1

export class PeerSocket {
  private readonly waiters = new Set<Waiter>()
  private closedReason: string | null = null
  private challenge: string | null = null
  private challengeWaiters: Array<(c: string) => void> = []
  /** Events sent and waiting for their OK, by id. */
  private readonly pendingOk = new Map<string, PendingOk[]>()
  onClose: (reason: string) => void = () => {}
  /** The live subscription (`subscribe`): its events and its end. */
  private live: {
    subId: string
    onEvent: (event: unknown) => void
    onClosed: (reason: string) => void
  } | null = null

  private constructor(
    readonly url: string,
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
  ) {
    ws.on('message', (data) => this.onMessage(data.toString()))
    ws.on('close', () => this.fail('connection closed'))
    ws.on('error', (err) => this.fail(`connection error: ${err.message}`))
  }

  /** Opens a connection; rejects after the timeout when the peer does not answer. */
  static async connect(url: string, timeoutMs: number): Promise<PeerSocket> {
    const ws = new WebSocket(url, {
      handshakeTimeout: timeoutMs,
      maxPayload: 64 * 1024 * 1024,
      perMessageDeflate: false,
    })
    const socket = new PeerSocket(url, ws, timeoutMs)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', (err) => reject(new PeerError(`cannot reach ${url}: ${err.message}`)))
    })
    return socket
  }

  get open(): boolean {
    return this.closedReason === null && this.ws.readyState === WebSocket.OPEN
  }

  close(): void {
    this.fail('closed by this node')
    this.ws.close()
  }

  private fail(reason: string): void {
    if (this.closedReason !== null) return
    this.closedReason = reason
    for (const w of this.waiters) {
      clearTimeout(w.timer)
      w.reject(new PeerError(`${this.url}: ${reason}`))
    }
    this.waiters.clear()
    for (const list of this.pendingOk.values()) {
      for (const p of list) {
        clearTimeout(p.timer)
        p.reject(new PeerError(`${this.url}: ${reason}`))
      }
    }
    this.pendingOk.clear()
    this.onClose(reason)
  }

  private onMessage(text: string): void {
    let m: unknown
    try {
      m = JSON.parse(text)
    } catch {
      return
    }
    if (!Array.isArray(m)) return
    if (m[0] === 'AUTH' && typeof m[1] === 'string') {
      this.challenge = m[1]
      for (const w of this.challengeWaiters.splice(0)) w(m[1])
      return
    }
    const live = this.live
    if (live !== null && m[1] === live.subId) {
      if (m[0] === 'EVENT') live.onEvent(m[2])
      else if (m[0] === 'CLOSED') {
        this.live = null
        live.onClosed(typeof m[2] === 'string' ? m[2] : '')
      }
      return // its EOSE (nothing stored is asked for) needs nothing
    }
    if (m[0] === 'OK' && typeof m[1] === 'string') {
      const list = this.pendingOk.get(m[1])
      if (list) {
        this.pendingOk.delete(m[1])
        for (const p of list) {
          clearTimeout(p.timer)
          p.resolve(m)
        }
      }
      return
    }
    for (const w of this.waiters) {
      if (!w.match(m)) continue
      this.waiters.delete(w)
      clearTimeout(w.timer)
      w.resolve(m)
      return
    }
  }

  private send(message: unknown): number {
    return this.sendText(JSON.stringify(message))
  }

  private sendText(text: string): number {
    if (!this.open) throw new PeerError(`${this.url}: ${this.closedReason ?? 'not connected'}`)
    this.ws.send(text)
    return Buffer.byteLength(text)
  }

  private wait(match: (m: unknown[]) => boolean, what: string): Promise<unknown[]> {
    if (this.closedReason !== null) {
      return Promise.reject(new PeerError(`${this.url}: ${this.closedReason}`))
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter)
          reject(new PeerError(`${this.url} did not answer ${what} within ${this.timeoutMs} ms`))
        }, this.timeoutMs),
      }
      this.waiters.add(waiter)
    })
  }

  /** NIP-42: proves the node key to the peer; resolves once the peer said OK. */
  async authenticate(secretKey: Uint8Array, relayUrl = this.url): Promise<void> {
    const challenge =
      this.challenge ??
      (await Promise.race([
        new Promise<string>((resolve) => this.challengeWaiters.push(resolve)),
        new Promise<string>((_, reject) =>
          setTimeout(
            () => reject(new PeerError(`${this.url} sent no AUTH challenge (NIP-42)`)),
            this.timeoutMs,
          ).unref(),
        ),
      ]))
    const auth = finalizeEvent(
      {
        kind: 22242,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['relay', relayUrl],
          ['challenge', challenge],
        ],
        content: '',
      },
      secretKey,
    )
    const ok = await this.publishRaw(auth, 'AUTH')
    if (ok[2] !== true) throw new PeerError(`${this.url} refused our AUTH: ${String(ok[3])}`)
  }

  private publishRaw(event: NostrEvent, verb: 'EVENT' | 'AUTH'): Promise<unknown[]> {
    return this.awaitOk(event.id, verb, JSON.stringify([verb, event]))
  }

  /** Sends a ready EVENT (or AUTH) frame and waits for the OK naming `id`. */
  private awaitOk(id: string, verb: 'EVENT' | 'AUTH', frame: string): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const pending = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.dropOk(id, pending)
          reject(new PeerError(`${this.url} did not answer ${verb} within ${this.timeoutMs} ms`))
        }, this.timeoutMs),
      }
      const list = this.pendingOk.get(id) ?? []
      list.push(pending)
      this.pendingOk.set(id, list)
      try {
        this.sendText(frame)
      } catch (err) {
        this.dropOk(id, pending)
        clearTimeout(pending.timer)
        reject(err)
      }
    })
  }

  private dropOk(id: string, pending: PendingOk): void {
    const list = this.pendingOk.get(id)
    if (!list) return
    const rest = list.filter((p) => p !== pending)
    if (rest.length === 0) this.pendingOk.delete(id)
    else this.pendingOk.set(id, rest)
  }

  /** Publishes an event; resolves with the peer's OK (accepted, and its message). */
  async publish(event: NostrEvent): Promise<{ ok: boolean; message: string }> {
    const m = await this.publishRaw(event, 'EVENT')
    return { ok: m[2] === true, message: typeof m[3] === 'string' ? m[3] : '' }
  }

  /**
   * Subscribes to what the peer stores from now on (a REQ whose filters ask `limit: 0`: no
   * stored events, only new ones). Each event goes to `onEvent` as the peer sent it (unchecked:
   * the caller ingests it like any event); a CLOSED from the peer ends it (`onClosed`).
   */
  subscribe(
    filters: readonly Filter[],
    onEvent: (event: unknown) => void,
    onClosed: (reason: string) => void,
  ): void {
    const subId = `live${nextSub++}`
    this.live = { subId, onEvent, onClosed }
    this.send(['REQ', subId, ...filters.map((f) => ({ ...f, limit: 0 }))])
  }

  /** The stored events matching a filter (up to EOSE); a CLOSED is an error. */
  async fetch(filter: Filter): Promise<NostrEvent[]> {
    const subId = `r${nextSub++}`
    const events: NostrEvent[] = []
    const end = new Promise<unknown[]>((resolve, reject) => {
      const waiter: Waiter = {
        match: (m) => {
          if (m[1] !== subId) return false
          if (m[0] === 'EVENT') {
            events.push(m[2] as NostrEvent)
            clearTimeout(waiter.timer)
            waiter.timer = setTimeout(timeout, this.timeoutMs)
            return false
          }
          return m[0] === 'EOSE' || m[0] === 'CLOSED'
        },
        resolve,
        reject,
        timer: setTimeout(() => timeout(), this.timeoutMs),
      }
      const timeout = () => {
        this.waiters.delete(waiter)
        reject(new PeerError(`${this.url} did not finish REQ within ${this.timeoutMs} ms`))
      }
      this.waiters.add(waiter)
    })
    this.send(['REQ', subId, filter])
    const last = await end
    if (last[0] === 'CLOSED') throw new PeerError(`${this.url} refused REQ: ${String(last[2])}`)
    this.send(['CLOSE', subId])
    return events
  }

  /**
   * Reconciles `local` (this node's (created_at, id) for the filter) with the peer's set by
   * NIP-77, as the initiator. A NEG-ERR, a NOTICE about the verb, or silence past the timeout
   * is an error naming the cause.
   */
  async reconcile(
    filter: Filter,
    local: ReadonlyArray<readonly [number, string]>,
    frameBytes: number,
    /** Each id this node lacks as soon as a round finds it (the fetch can start at once). */
    onNeed?: (id: string) => void,
  ): Promise<ReconcileResult> {
    const neg = new nip77.Negentropy(PrefixSumStorage.of(local), frameBytes)
    const subId = `n${nextSub++}`
    const have: string[] = []
    const need: string[] = []
    let bytes = 0
    let rounds = 0
    const answer = () =>
      this.wait(
        (m) =>
          ((m[0] === 'NEG-MSG' || m[0] === 'NEG-ERR') && m[1] === subId) ||
          (m[0] === 'NOTICE' && typeof m[1] === 'string' && /NEG|unknown|invalid/i.test(m[1])),
        rounds === 0 ? 'NEG-OPEN (does it speak NIP-77?)' : 'NEG-MSG',
      )
    bytes += this.send(['NEG-OPEN', subId, filter, neg.initiate()])
    try {
      for (;;) {
        const m = await answer()
        rounds++
        bytes += Buffer.byteLength(JSON.stringify(m))
        if (m[0] === 'NOTICE') {
          throw new PeerError(`${this.url} does not speak NIP-77: ${String(m[1])}`)
        }
        if (m[0] === 'NEG-ERR') throw new PeerError(`${this.url} refused NIP-77: ${String(m[2])}`)
        if (typeof m[2] !== 'string') throw new PeerError(`${this.url} sent a malformed NEG-MSG`)
        let next: string | null
        try {
          next = neg.reconcile(
            m[2],
            (id) => have.push(id),
            (id) => {
              need.push(id)
              onNeed?.(id)
            },
          )
        } catch (err) {
          throw new PeerError(`${this.url} sent a bad negentropy message: ${String(err)}`)
        }
        if (next === null) break
        bytes += this.send(['NEG-MSG', subId, next])
      }
    } finally {
      if (this.open) bytes += this.send(['NEG-CLOSE', subId])
    }
    return { have, need, bytes, rounds }
  }
}
