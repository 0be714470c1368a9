// The ingest phase: publish pre-signed events over N connections and time each OK.
//
// Two ways to offer load:
// - window (rate 0, closed loop): each connection keeps `window` events unanswered, sending
//   the next as each OK arrives. This finds the most events a second the node acknowledges;
//   the OK latency then mostly measures the queue the window builds (Little's law).
// - rate N (open loop): events leave on a fixed schedule, N a second across all connections
//   round-robin, whatever the answers. This is the latency test: a node that keeps up
//   answers in about its service time; one that does not shows it in p99.
//
// Latency runs from just before `send` to the arrival of the OK with that event's id; in
// rate mode `sendLagMs` shows how late the client sent against its schedule (if that grows,
// the client, not the node, was the limit). OK true counts as acknowledged, except a
// `duplicate:` answer (the event was stored before; a much cheaper path), which is counted
// apart; OK false is counted by its prefix (`rate-limited`, …).
import type { PreparedEvent } from './event-corpus.js'
import { type LatencySummary, Samples, round3 } from './percentiles.js'
import { type RelaySocket, reasonPrefix } from './ws-client.js'

export type IngestOptions = {
  sockets: readonly RelaySocket[]
  events: readonly PreparedEvent[]
  /** 0: closed loop with `window` events outstanding per connection; N > 0: N events/s offered. */
  rate: number
  window: number
  /** Stop waiting for missing OKs when none has arrived for this long. */
  idleTimeoutMs?: number
  /** Called about twice a second with the number of events answered so far. */
  onProgress?: (answered: number, total: number) => void
}

export type IngestResult = {
  mode: 'window' | 'rate'
  events: number
  /** OK true for a new event. */
  accepted: number
  /** OK true with `duplicate:`: already stored, not counted in `accepted`. */
  duplicates: number
  /** OK false, by the message's prefix. */
  refused: Record<string, number>
  /** Sent but never answered (connection lost, or the idle timeout passed). */
  unanswered: number
  /** From the first send to the last OK. */
  seconds: number
  /** New events acknowledged (OK true, not duplicates) per second. */
  eventsPerSecond: number
  /** Rate mode: the schedule's rate and the rate actually sent. */
  offeredPerSecond?: number
  sentPerSecond?: number
  okLatencyMs: LatencySummary
  sendLagMs?: LatencySummary
  /** Most events sent and not yet answered at once, over all connections. */
  maxOutstanding: number
  errors?: string[]
}

export function runIngest(options: IngestOptions): Promise<IngestResult> {
  const { sockets, events, rate, window } = options
  const total = events.length
  const idleTimeoutMs = options.idleTimeoutMs ?? 15_000
  const n = sockets.length
  const index = new Map<string, number>()
  for (let i = 0; i < total; i++) index.set(events[i]!.id, i)
  const sentAt = new Float64Array(total)
  const answered = new Uint8Array(total)
  const latency = new Samples()
  const lag = new Samples()
  const refused: Record<string, number> = {}
  const errors: string[] = []
  const outstanding = new Array<number>(n).fill(0)
  const nextOf = sockets.map((_, c) => c) // window mode: socket c sends events c, c+n, c+2n…
  let accepted = 0
  let duplicates = 0
  let answeredCount = 0
  let inFlight = 0
  let maxOutstanding = 0
  let firstSend = 0
  let lastOk = 0
  let lastProgress = performance.now()
  let sent = 0

  const send = (c: number, i: number) => {
    const t = performance.now()
    if (sent === 0) firstSend = t
    sentAt[i] = t
    sockets[c]!.send(events[i]!.message)
    sent++
    outstanding[c]!++
    if (++inFlight > maxOutstanding) maxOutstanding = inFlight
  }

  const pump = (c: number) => {
    while (outstanding[c]! < window && nextOf[c]! < total) {
      send(c, nextOf[c]!)
      nextOf[c]! += n
    }
  }

  return new Promise<IngestResult>((resolve) => {
    let scheduler: NodeJS.Timeout | undefined
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearInterval(watchdog)
      if (scheduler) clearInterval(scheduler)
      for (const s of sockets) {
        s.onFrame = () => {}
        s.onClose = () => {}
      }
      const seconds = Math.max(1e-9, (lastOk - firstSend) / 1000)
      const result: IngestResult = {
        mode: rate > 0 ? 'rate' : 'window',
        events: sent,
        accepted,
        duplicates,
        refused,
        unanswered: sent - answeredCount,
        seconds: round3(seconds),
        eventsPerSecond: Math.round(accepted / seconds),
        okLatencyMs: latency.summary(),
        maxOutstanding,
      }
      if (rate > 0) {
        const sendSeconds = Math.max(1e-9, (sentAt[sent - 1]! - firstSend) / 1000)
        result.offeredPerSecond = rate
        result.sentPerSecond = Math.round((sent - 1) / sendSeconds)
        result.sendLagMs = lag.summary()
      }
      if (errors.length > 0) result.errors = errors
      resolve(result)
    }

    sockets.forEach((socket, c) => {
      socket.onFrame = (f) => {
        if (f.type !== 'OK') return
        const i = index.get(f.id)
        if (i === undefined || answered[i] === 1) return
        const now = performance.now()
        answered[i] = 1
        answeredCount++
        inFlight--
        outstanding[c]!--
        lastOk = now
        lastProgress = now
        latency.push(now - sentAt[i]!)
        if (f.ok) {
          if (f.message.startsWith('duplicate:')) duplicates++
          else accepted++
        } else {
          const p = reasonPrefix(f.message)
          refused[p] = (refused[p] ?? 0) + 1
        }
        if (rate === 0) pump(c)
        if (answeredCount === total) finish()
      }
      socket.onClose = (reason) => {
        errors.push(`connection ${c}: ${reason}`)
      }
    })

    let lastReport = 0
    const watchdog = setInterval(() => {
      const now = performance.now()
      if (now - lastReport >= 500) {
        lastReport = now
        options.onProgress?.(answeredCount, total)
      }
      const doneSending = sent === total
      if ((doneSending || rate === 0) && now - lastProgress > idleTimeoutMs) {
        errors.push(`no OK for ${idleTimeoutMs} ms; ${sent - answeredCount} events unanswered`)
        finish()
      }
    }, 100)

    if (total === 0) return finish()
    if (rate === 0) {
      for (let c = 0; c < n; c++) pump(c)
      return
    }
    const interval = 1000 / rate
    let t0 = 0
    const tick = () => {
      const now = performance.now()
      if (t0 === 0) t0 = now
      const due = Math.min(total, Math.floor((now - t0) / interval) + 1)
      while (sent < due) {
        lag.push(performance.now() - (t0 + sent * interval))
        send(sent % n, sent)
      }
      if (sent === total && scheduler) {
        clearInterval(scheduler)
        scheduler = undefined
        lastProgress = performance.now()
      }
    }
    scheduler = setInterval(tick, 1)
    tick()
  })
}
