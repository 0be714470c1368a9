// One Nostr connection to a node, on nostr-tools' AbstractRelay with the WebSocket
// implementation passed in (no global), and with deadlines on everything — connecting, AUTH,
// publishing, the stored part of a query — because failing over to another node is only as
// quick as noticing that this one is gone. A live subscription sees a killed node at once
// (the socket closes) and a frozen one within `heartbeatMs` × 2 (WebSocket ping, no pong).
// The heartbeat is ours, not nostr-tools' `enablePing`: that one closes a silent socket with
// a close handshake, which `ws` waits up to 30 s for a frozen peer to answer; ours terminates
// it at once. (Browsers expose no ping; there the connection's own close is all we see.)
import type { Filter, NostrEvent } from '@hansa/protocol'
import { AbstractRelay } from 'nostr-tools/abstract-relay'
import { finalizeEvent, verifyEvent } from 'nostr-tools/pure'
import type { EventTemplate, VerifiedEvent } from 'nostr-tools/core'

export type RelayEnv = {
  /** A WebSocket class (`ws` in Node, the browser's own in a page). */
  WebSocket: unknown
  connectTimeoutMs: number
  /** Publishing, AUTH and a query's stored events (to EOSE) each get this long. */
  requestTimeoutMs: number
}

/** A refusal or failure a person can read: the relay's reason, or what went wrong. */
export class RelayFailure extends Error {
  override name = 'RelayFailure'
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message)
  }
}

const prefixOf = (reason: string) => /^([a-z-]+):/.exec(reason)?.[1] ?? null

/** Whether a refusal reason means "authenticate and ask again" (NIP-42). */
export const needsAuth = (reason: string) => prefixOf(reason) === 'auth-required'

export type RelayConnection = {
  url: string
  relay: AbstractRelay
  /** Resolves when the connection closes, for whatever reason. */
  closed: Promise<string>
  close(): void
}

/**
 * Opens a connection. With `heartbeatMs`, a ping goes out every `heartbeatMs` and a missing
 * pong within `heartbeatMs` closes the connection (live subscriptions use it).
 */
export async function connectRelay(
  url: string,
  env: RelayEnv,
  options: { heartbeatMs?: number } = {},
): Promise<RelayConnection> {
  const relay = new AbstractRelay(url, {
    verifyEvent,
    websocketImplementation: env.WebSocket as typeof WebSocket,
    enablePing: false,
    enableReconnect: false,
  })
  relay.publishTimeout = env.requestTimeoutMs
  relay.baseEoseTimeout = env.requestTimeoutMs
  relay.onnotice = () => {}
  let onClosed: (reason: string) => void = () => {}
  const closed = new Promise<string>((resolve) => {
    onClosed = resolve
  })
  relay.onclose = () => onClosed('connection closed')
  try {
    await relay.connect({ timeout: env.connectTimeoutMs })
  } catch (error) {
    relay.close()
    throw new RelayFailure(url, `cannot connect: ${String(error)}`)
  }
  if (options.heartbeatMs !== undefined) heartbeat(relay, options.heartbeatMs, closed, onClosed)
  return { url, relay, closed, close: () => relay.close() }
}

type PingableSocket = {
  readyState: number
  ping?: () => void
  once?: (event: 'pong', listener: () => void) => void
  terminate?: () => void
  close(): void
}

/** Pings every `ms`; a pong missing after `ms` ends the connection at once. */
function heartbeat(
  relay: AbstractRelay,
  ms: number,
  closed: Promise<string>,
  onClosed: (reason: string) => void,
): void {
  const socket = () => (relay as unknown as { ws?: PingableSocket }).ws
  const timer = setInterval(() => {
    const ws = socket()
    if (ws?.readyState !== 1 || ws.ping === undefined || ws.once === undefined) return
    let answered = false
    ws.once('pong', () => {
      answered = true
    })
    ws.ping()
    setTimeout(() => {
      if (answered || ws.readyState !== 1) return
      onClosed(`no pong within ${ms} ms`)
      if (ws.terminate) ws.terminate()
      else ws.close()
    }, ms).unref?.()
  }, ms)
  timer.unref?.()
  void closed.then(() => clearInterval(timer))
}

/**
 * NIP-42: answers the node's challenge as the holder of `key` (a secret key or a signer such
 * as NIP-07's) and waits for its OK.
 * The challenge comes right after the connection opens; waits for it up to the deadline.
 */
export async function authenticate(
  conn: RelayConnection,
  key: Uint8Array | { signEvent(t: EventTemplate): Promise<VerifiedEvent> },
  env: RelayEnv,
): Promise<void> {
  const sign = async (template: EventTemplate) =>
    key instanceof Uint8Array ? finalizeEvent(template, key) : key.signEvent(template)
  const until = Date.now() + env.requestTimeoutMs
  // nostr-tools keeps the last challenge it received; poll briefly for the first one.
  while ((conn.relay as unknown as { challenge?: string }).challenge === undefined) {
    if (Date.now() > until || !conn.relay.connected) {
      throw new RelayFailure(conn.url, 'the node sent no AUTH challenge')
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  try {
    await conn.relay.auth(sign)
  } catch (error) {
    throw new RelayFailure(conn.url, `AUTH refused: ${(error as Error).message ?? error}`)
  }
}

/** Publishes an event; resolves with the OK message, throws RelayFailure with the refusal. */
export async function publishEvent(conn: RelayConnection, event: NostrEvent): Promise<string> {
  try {
    return await conn.relay.publish(event)
  } catch (error) {
    throw new RelayFailure(conn.url, (error as Error).message ?? String(error))
  }
}

export type QueryResult = { events: NostrEvent[] }

/**
 * The stored events matching `filters`, up to EOSE. Throws RelayFailure with the node's
 * CLOSED reason (`auth-required: …`, `payment-required: …`), or when the connection drops.
 */
export function queryEvents(
  conn: RelayConnection,
  filters: Filter[],
  env: RelayEnv,
): Promise<QueryResult> {
  return new Promise((resolve, reject) => {
    const events: NostrEvent[] = []
    let done = false
    const finish = (error?: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      sub.close()
      if (error) reject(error)
      else resolve({ events })
    }
    // nostr-tools treats its own EOSE timeout as an EOSE; ours is a failure (a frozen node).
    const timer = setTimeout(
      () => finish(new RelayFailure(conn.url, 'no EOSE in time')),
      env.requestTimeoutMs,
    )
    const sub = conn.relay.subscribe(filters as Parameters<AbstractRelay['subscribe']>[0], {
      eoseTimeout: env.requestTimeoutMs * 10,
      onevent: (e) => events.push(e as NostrEvent),
      oneose: () => finish(),
      onclose: (reason) => finish(new RelayFailure(conn.url, reason)),
    })
  })
}

/**
 * A live subscription: `onEvent` for stored and new events; resolves `ended` with the reason
 * when the node closes it or the connection drops (the caller fails over). `eose` resolves
 * once the stored events are in.
 */
export function subscribeLive(
  conn: RelayConnection,
  filters: Filter[],
  onEvent: (event: NostrEvent) => void,
  env: RelayEnv,
): { eose: Promise<void>; ended: Promise<string>; close(): void } {
  let onEose: () => void = () => {}
  let onFail: (e: Error) => void = () => {}
  const eose = new Promise<void>((resolve, reject) => {
    onEose = resolve
    onFail = reject
  })
  let onEnd: (reason: string) => void = () => {}
  const ended = new Promise<string>((resolve) => {
    onEnd = resolve
  })
  const timer = setTimeout(
    () => onFail(new RelayFailure(conn.url, 'no EOSE in time')),
    env.requestTimeoutMs,
  )
  const sub = conn.relay.subscribe(filters as Parameters<AbstractRelay['subscribe']>[0], {
    eoseTimeout: env.requestTimeoutMs * 10,
    onevent: (e) => onEvent(e as NostrEvent),
    oneose: () => {
      clearTimeout(timer)
      onEose()
    },
    onclose: (reason) => {
      clearTimeout(timer)
      onFail(new RelayFailure(conn.url, reason))
      onEnd(reason)
    },
  })
  void conn.closed.then((reason) => {
    clearTimeout(timer)
    onFail(new RelayFailure(conn.url, reason))
    onEnd(reason)
  })
  eose.catch(() => {}) // the caller awaits it; a failure after that is reported by `ended`
  return { eose, ended, close: () => sub.close() }
}
