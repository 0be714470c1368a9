// The query phase: each connection loops REQ → count EVENTs → EOSE (latency recorded) →
// CLOSE → next REQ, for a fixed time, cycling through three kinds of query:
//   byP          {"#p":[recipient],"kinds":[1059],"limit":100}  an inbox fetching its mail
//   byAuthor     {"authors":[author],"limit":100}               a profile's timeline
//   byKindSince  {"kinds":[1],"since":t,"limit":100}            a global feed since t
// Gift wraps are served only to their recipient, so before querying byP a connection
// authenticates (NIP-42) as each recipient it will ask for; `authenticate` does that.
// Each REQ is closed after its EOSE, so the node holds no live subscription between queries.
import type { KeyPair } from './event-corpus.js'
import { KIND_GIFT_WRAP, KIND_NOTE } from './event-corpus.js'
import { type LatencySummary, Samples, round3 } from './percentiles.js'
import type { Signer } from './signer.js'
import { type RelaySocket, reasonPrefix } from './ws-client.js'

export const QUERY_KINDS = ['byP', 'byAuthor', 'byKindSince'] as const
export type QueryKind = (typeof QUERY_KINDS)[number]

export type QueryPlan = {
  /** Per socket, the recipients it is authenticated as (byP asks for one of them). */
  recipientsBySocket: readonly (readonly string[])[]
  authors: readonly string[]
  /** byKindSince picks `since` uniformly in [from, to]. */
  since: { from: number; to: number }
  limit: number
}

export type QueryOptions = {
  sockets: readonly RelaySocket[]
  plan: QueryPlan
  seconds: number
  /** REQs outstanding per connection (1: strictly one after the other). */
  window: number
  rand?: () => number
}

export type QueryKindResult = {
  queries: number
  events: number
  eventsPerQuery: number
  queriesPerSecond: number
  eventsPerSecond: number
  /** REQ sent → EOSE received. */
  latencyMs: LatencySummary
  /** CLOSED answers, by prefix. */
  refused?: Record<string, number>
  skipped?: string
}

export type QueryResult = Record<QueryKind, QueryKindResult> & {
  seconds: number
  queries: number
  queriesPerSecond: number
  /** Events delivered before EOSE, per second, all kinds together. */
  eventsPerSecond: number
  errors?: string[]
}

/** The REQ filter for one query. */
export function queryFilter(
  kind: QueryKind,
  pick: { recipient: string; author: string; since: number },
  limit: number,
) {
  switch (kind) {
    case 'byP':
      return { '#p': [pick.recipient], kinds: [KIND_GIFT_WRAP], limit }
    case 'byAuthor':
      return { authors: [pick.author], limit }
    case 'byKindSince':
      return { kinds: [KIND_NOTE], since: pick.since, limit }
  }
}

/**
 * Authenticates `socket` (NIP-42) as each of `keys`, all AUTH messages at once. Returns the
 * pubkeys the relay accepted and the reasons for any it did not.
 */
export async function authenticate(
  socket: RelaySocket,
  relayUrl: string,
  keys: readonly KeyPair[],
  signer: Signer,
  timeoutMs = 10_000,
): Promise<{ accepted: string[]; errors: string[] }> {
  if (keys.length === 0) return { accepted: [], errors: [] }
  const challenge = await Promise.race([
    socket.challenge,
    new Promise<null>((r) => setTimeout(() => r(null), timeoutMs)),
  ])
  if (challenge === null) return { accepted: [], errors: ['the relay sent no AUTH challenge'] }
  const waiting = new Map<string, string>() // event id → pubkey
  const messages = keys.map((k) => {
    const ev = signer.finalize(
      {
        kind: 22242,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['relay', relayUrl],
          ['challenge', challenge],
        ],
        content: '',
      },
      new Uint8Array(Buffer.from(k.sk, 'hex')),
    )
    waiting.set(ev.id, k.pk)
    return `["AUTH",${JSON.stringify(ev)}]`
  })
  const accepted: string[] = []
  const errors: string[] = []
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      errors.push(`${waiting.size} AUTH messages unanswered after ${timeoutMs} ms`)
      resolve()
    }, timeoutMs)
    socket.onFrame = (f) => {
      if (f.type !== 'OK') return
      const pk = waiting.get(f.id)
      if (pk === undefined) return
      waiting.delete(f.id)
      if (f.ok) accepted.push(pk)
      else if (errors.length < 3) errors.push(f.message)
      if (waiting.size === 0) {
        clearTimeout(timer)
        resolve()
      }
    }
    for (const m of messages) socket.send(m)
  })
  socket.onFrame = () => {}
  return { accepted, errors }
}

type Open = { kind: QueryKind; start: number; events: number }

export function runQueries(options: QueryOptions): Promise<QueryResult> {
  const { sockets, plan, window } = options
  const rand = options.rand ?? Math.random
  const pickFrom = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!
  const stats = Object.fromEntries(
    QUERY_KINDS.map((k) => [
      k,
      { queries: 0, events: 0, latency: new Samples(), refused: {} as Record<string, number> },
    ]),
  ) as Record<
    QueryKind,
    { queries: number; events: number; latency: Samples; refused: Record<string, number> }
  >
  const errors: string[] = []
  const kindsOf = sockets.map((_, c) =>
    QUERY_KINDS.filter((k) => k !== 'byP' || (plan.recipientsBySocket[c]?.length ?? 0) > 0),
  )
  const open = sockets.map(() => new Map<string, Open>())
  const turn = sockets.map((_, c) => c)
  const seq = sockets.map(() => 0)
  const start = performance.now()
  const end = start + options.seconds * 1000
  let lastEose = start

  return new Promise<QueryResult>((resolve) => {
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(drainTimer)
      clearInterval(watch)
      for (const s of sockets) {
        s.onFrame = () => {}
        s.onClose = () => {}
      }
      const seconds = Math.max(1e-9, (lastEose - start) / 1000)
      let queries = 0
      let events = 0
      const perKind = {} as Record<QueryKind, QueryKindResult>
      for (const k of QUERY_KINDS) {
        const s = stats[k]
        queries += s.queries
        events += s.events
        const r: QueryKindResult = {
          queries: s.queries,
          events: s.events,
          eventsPerQuery: s.queries ? round3(s.events / s.queries) : 0,
          queriesPerSecond: Math.round(s.queries / seconds),
          eventsPerSecond: Math.round(s.events / seconds),
          latencyMs: s.latency.summary(),
        }
        if (Object.keys(s.refused).length > 0) r.refused = s.refused
        if (kindsOf.every((ks) => !ks.includes(k)))
          r.skipped = 'no connection is authenticated as a recipient'
        perKind[k] = r
      }
      const result: QueryResult = {
        ...perKind,
        seconds: round3(seconds),
        queries,
        queriesPerSecond: Math.round(queries / seconds),
        eventsPerSecond: Math.round(events / seconds),
      }
      if (errors.length > 0) result.errors = errors
      resolve(result)
    }

    const issue = (c: number) => {
      const kinds = kindsOf[c]!
      if (kinds.length === 0) return
      const kind = kinds[turn[c]!++ % kinds.length]!
      const subId = `q${seq[c]!++}`
      const filter = queryFilter(
        kind,
        {
          recipient: kind === 'byP' ? pickFrom(plan.recipientsBySocket[c]!) : '',
          author: kind === 'byAuthor' ? pickFrom(plan.authors) : '',
          since: plan.since.from + Math.floor(rand() * (plan.since.to - plan.since.from + 1)),
        },
        plan.limit,
      )
      open[c]!.set(subId, { kind, start: performance.now(), events: 0 })
      sockets[c]!.send(`["REQ",${JSON.stringify(subId)},${JSON.stringify(filter)}]`)
    }

    const allIdle = () => open.every((m) => m.size === 0)

    sockets.forEach((socket, c) => {
      const mine = open[c]!
      socket.onFrame = (f) => {
        if (f.type === 'EVENT') {
          const q = mine.get(f.subId)
          if (q) q.events++
          return
        }
        if (f.type !== 'EOSE' && f.type !== 'CLOSED') return
        const q = mine.get(f.subId)
        if (!q) return
        const now = performance.now()
        mine.delete(f.subId)
        const s = stats[q.kind]
        if (f.type === 'EOSE') {
          lastEose = now
          s.queries++
          s.events += q.events
          s.latency.push(now - q.start)
          socket.send(`["CLOSE",${JSON.stringify(f.subId)}]`)
        } else {
          const p = reasonPrefix(f.message)
          s.refused[p] = (s.refused[p] ?? 0) + 1
          if (errors.length < 5) errors.push(`${q.kind}: CLOSED ${f.message}`)
        }
        if (now < end) issue(c)
        else if (allIdle()) finish()
      }
      socket.onClose = (reason) => {
        errors.push(`connection ${c}: ${reason}`)
        mine.clear()
        if (allIdle()) finish()
      }
    })

    // After the time is up, wait at most 10 s for the last answers.
    let drainTimer: NodeJS.Timeout | undefined
    const watch = setInterval(() => {
      if (performance.now() < end) return
      clearInterval(watch)
      if (allIdle()) return finish()
      drainTimer = setTimeout(() => {
        errors.push('queries still unanswered 10 s after the end')
        finish()
      }, 10_000)
    }, 50)

    for (let c = 0; c < sockets.length; c++) for (let w = 0; w < window; w++) issue(c)
    if (allIdle()) finish()
  })
}
