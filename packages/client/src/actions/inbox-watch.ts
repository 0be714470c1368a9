// inbox.watch(client, { onMessage }): live mode — the user's mail as it arrives. One node at a
// time serves a live subscription (after NIP-42 AUTH); when it goes away — the socket closes
// (a killed node), no pong within the heartbeat (a frozen one), or it closes the
// subscription (it refuses) — the next of her inbox nodes takes over at once, and its stored
// mail fills whatever arrived in between (messages are deduplicated by wrap id). When every
// node has failed, it waits a moment and goes round again, until stop().
import type { HansaClient } from '../client.js'
import { requireSigner } from '../client.js'
import { ChequebookMissingError } from '../errors.js'
import { healthyFirst, payerFor } from '../failover.js'
import { GIFT_WRAP_KIND, relayEnv } from '../inbox-io.js'
import { type InboxMessage, unwrapOne } from '../inbox-messages.js'
import type { NostrEvent } from '@hansa/protocol'
import { authenticate, connectRelay, subscribeLive } from '../relay-connection.js'
import { markDown, markUp } from '../reports.js'
import { ownInboxRelays } from './inbox-read.js'

export type WatchStatus =
  | {
      kind: 'serving'
      url: string
      /** Monotonic milliseconds (client.env.clock). */
      at: number
      /** Since the previous node was lost (null for the first). */
      afterLossMs: number | null
    }
  | { kind: 'lost'; url: string; reason: string; at: number }
  | {
      kind: 'failed'
      url: string
      reason: string
      at: number
      /** The error's stable code, when it has one (HANSA_CHEQUEBOOK_MISSING: the user must act). */
      code?: string
    }

export type InboxWatchParams = {
  onMessage: (message: InboxMessage) => void
  onStatus?: (status: WatchStatus) => void
  relays?: string[]
  /** Pause after every node failed, before going round again (default 500 ms). */
  retryMs?: number
}

export type InboxWatch = {
  /** The node serving now, or null. */
  current(): string | null
  stop(): void
  /** Resolves after stop(). */
  done: Promise<void>
}

export function watchInbox(client: HansaClient, params: InboxWatchParams): InboxWatch {
  const signer = requireSigner(client, 'watching the inbox')
  const me = client.pubkey!
  const env = relayEnv(client)
  const seen = new Set<string>()
  let opening: Promise<void> = Promise.resolve()
  let current: string | null = null
  let stopped = false
  let wake: () => void = () => {}
  const stopping = new Promise<string>((resolve) => {
    wake = () => resolve('stopped')
  })
  const status = (s: WatchStatus) => params.onStatus?.(s)
  const onWrap = (url: string) => (wrap: NostrEvent) => {
    if (seen.has(wrap.id)) return
    seen.add(wrap.id)
    // Opened one after another (a NIP-07 signer answers asynchronously), so they arrive in order.
    opening = opening
      .then(() => unwrapOne(wrap, signer, url))
      .then((message) => {
        if (message && !stopped) params.onMessage(message)
      })
  }

  const serve = async (url: string, lostAt: number | null): Promise<number | null> => {
    const conn = await connectRelay(url, env, { heartbeatMs: client.env.heartbeatMs })
    try {
      await authenticate(conn, signer, env)
      const stored: NostrEvent[] = []
      let live = false
      // Asked before subscribing, so no live delivery goes unbooked. Without the chequebook a
      // hard-mode node needs, the user must act (deploy one): say so; the mail still comes
      // until the node refuses her for what she owes.
      const payer = await payerFor(client, url, 'inbox', signer).catch((error) => {
        if (error instanceof ChequebookMissingError) {
          status({
            kind: 'failed',
            url,
            reason: error.message,
            code: error.code,
            at: client.env.clock(),
          })
        }
        return null
      })
      // A metered node charges each live delivery too: book it as the node does, and pay
      // when the debt comes due, or the node closes the subscription at its threshold.
      const onLive = (e: NostrEvent) => {
        if (payer) {
          payer.recordDelivery(e)
          void payer.settle().catch(() => {})
        }
        onWrap(url)(e)
      }
      const sub = subscribeLive(
        conn,
        [{ kinds: [GIFT_WRAP_KIND], '#p': [me] }],
        (e) => (live ? onLive(e) : stored.push(e)),
        env,
      )
      await sub.eose
      live = true
      for (const e of stored) onWrap(url)(e)
      if (payer) {
        payer.recordQuery(stored)
        await payer.settle().catch(() => {})
      }
      current = url
      markUp(client, url)
      status({
        kind: 'serving',
        url,
        at: client.env.clock(),
        afterLossMs: lostAt === null ? null : Math.round(client.env.clock() - lostAt),
      })
      const reason = await Promise.race([sub.ended, stopping])
      current = null
      if (stopped) return null
      const at = client.env.clock()
      markDown(client, url)
      status({ kind: 'lost', url, reason, at })
      return at
    } finally {
      conn.close()
    }
  }

  const run = async () => {
    const relays = await ownInboxRelays(client, params.relays)
    let lostAt: number | null = null
    while (!stopped) {
      let served = false
      for (const url of healthyFirst(client, relays)) {
        if (stopped) break
        try {
          lostAt = (await serve(url, lostAt)) ?? lostAt
          served = true
          break // go round again from the healthiest
        } catch (error) {
          markDown(client, url)
          status({ kind: 'failed', url, reason: (error as Error).message, at: client.env.clock() })
        }
      }
      if (!served && !stopped) {
        await Promise.race([new Promise((r) => setTimeout(r, params.retryMs ?? 500)), stopping])
      }
    }
  }

  const done = run().catch((error) => {
    status({ kind: 'failed', url: '', reason: (error as Error).message, at: client.env.clock() })
  })
  return {
    current: () => current,
    stop() {
      stopped = true
      wake()
    },
    done,
  }
}
