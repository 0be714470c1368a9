// Paid access on the relay's hooks (the engine's extension point; its pipeline is unchanged).
// For each service whose terms are not free, using the traffic the service declares:
//
// subscription  onEvent  an event for someone (the inbox: mail) is accepted only when every
//                        recipient's subscription is active: `restricted:` otherwise, with the
//                        date it expired
//               onReq    a query that may return someone's data (her mail) is answered only
//                        while her subscription is active: `payment-required:` with the expiry
//                        date otherwise. Her stored mail is not touched: it waits, under the
//                        service's retention, for her to renew.
// metered       who pays (docs/paid-access.md says why):
//               - an event stored (mail sent) is charged to the sender: the connection's
//                 account, the first pubkey it authenticated as (NIP-42; `auth-required:`
//                 without one). Every key the connection authenticated as must be within the
//                 disconnect threshold, so a key that owes cannot hide behind a fresh one.
//                 Not the recipient: anyone could then run up her debt by mailing her.
//               - a query answered, and each event sent live to an open subscription, is
//                 charged to its readers: the authenticated keys whose mail it returns (each
//                 pays an equal share, rounded up), each of whom must be within the threshold
//                 (`payment-required:` with the balance; soft mode serves). A reader past it
//                 has her live subscription closed (onDeliver), not fed for free.
//               price: base price + ⌈bytes × kilobyte price / 1024⌉ (a live event: no base,
//               its REQ paid it)
import type { NostrEvent, SwapRequest } from '@hansa/protocol'
import type { ConnectionInfo } from '../relay/connection.js'
import { type Refusal, refuse } from '../relay/refusal.js'
import type { Hooks, HookName, Service, ServiceTraffic } from '../services/service.js'
import type { Subscriptions } from './subscriptions.js'
import type { SwapAccounts } from './swap-accounts.js'

/** What the subscription gate reads (billing.sqlite's Subscriptions, or PostgreSQL's). */
export type AccessTable = Pick<Subscriptions, 'access'>
/** What metering uses of SWAP accounts (billing.sqlite's, or PostgreSQL's). */
export type Meter = Pick<SwapAccounts, 'admit' | 'price' | 'charge' | 'chargeAmount'>

type AddHook = <K extends HookName>(name: K, fn: Hooks[K]) => void

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString()
const short = (pubkey: string) => `${pubkey.slice(0, 12)}…`

/** The pubkey a connection is charged as: the first it authenticated as. */
export function accountOf(conn: ConnectionInfo): string | undefined {
  for (const pubkey of conn.authed) return pubkey
  return undefined
}

export function gateBySubscription(
  addHook: AddHook,
  service: string,
  traffic: ServiceTraffic,
  subscriptions: AccessTable,
): void {
  addHook('onEvent', (event: NostrEvent): Refusal | undefined => {
    const recipients = traffic.eventBeneficiaries(event)
    if (recipients === undefined) return undefined
    for (const pubkey of recipients) {
      const access = subscriptions.access(pubkey, service)
      if (access.active) continue
      return access.expiredAt === null
        ? refuse(
            'restricted',
            'subscription-none',
            `${short(pubkey)} has no ${service} subscription on this node; it accepts ${service} events only for subscribers`,
          )
        : refuse(
            'restricted',
            'subscription-expired',
            `the ${service} subscription of ${short(pubkey)} expired on ${iso(access.expiredAt)}; nothing more is accepted for it until it is renewed`,
          )
    }
    return undefined
  })
  addHook('onReq', (filters, conn) => {
    const readers = traffic.queryBeneficiaries(filters, conn)
    if (readers === undefined) return undefined
    for (const pubkey of readers) {
      const access = subscriptions.access(pubkey, service)
      if (access.active) continue
      return access.expiredAt === null
        ? refuse(
            'payment-required',
            'subscription-none',
            `the ${service} on this node needs a subscription and ${short(pubkey)} has none; see GET /terms, subscribe with POST /subscriptions`,
          )
        : refuse(
            'payment-required',
            'subscription-expired',
            `your ${service} subscription (${short(pubkey)}) expired on ${iso(access.expiredAt)}; what is stored for you is kept until retention ends — renew with POST /subscriptions`,
          )
    }
    return undefined
  })
}

export function meter(
  addHook: AddHook,
  service: string,
  traffic: ServiceTraffic,
  accounts: Meter,
  unit: string,
): void {
  const refusal = (
    peer: string,
    kind: SwapRequest['kind'],
    conn: ConnectionInfo,
  ): Refusal | undefined => {
    const decision = accounts.admit(peer, kind)
    if (decision.serve) return undefined
    // "you" when the connection is one key; the key that owes when it authenticated as several
    const who = conn.authed.size > 1 ? `${short(peer)} owes` : 'you owe'
    return refuse(
      'payment-required',
      'swap-disconnect',
      `${who} ${decision.balance} ${unit}, past this node's disconnect threshold of ${decision.disconnectThreshold} ${unit}; send a cheque (POST /cheques) to continue`,
    )
  }
  /** Each reader's share of `price`, rounded up, so the readers together pay at least it. */
  const chargeReaders = (readers: readonly string[], kind: SwapRequest['kind'], bytes: number) => {
    const price = accounts.price({ kind, bytes })
    const share = (price + BigInt(readers.length) - 1n) / BigInt(readers.length)
    for (const reader of readers) accounts.chargeAmount(reader, share)
  }
  /** The connection's authenticated keys an event is addressed to (its readers). */
  const readersOf = (event: NostrEvent, conn: ConnectionInfo): string[] => {
    const recipients = traffic.eventBeneficiaries(event)
    return recipients === undefined ? [] : recipients.filter((p) => conn.authed.has(p))
  }

  addHook('onEvent', (event, conn) => {
    if (traffic.eventBeneficiaries(event) === undefined) return undefined
    const sender = accountOf(conn)
    if (sender === undefined) {
      return refuse(
        'auth-required',
        'metered-auth',
        `this node meters the ${service}: authenticate (NIP-42) so your account can be charged`,
      )
    }
    // Every key the connection authenticated as must be within bounds: a connection cannot
    // hide a key that owes behind a fresh one.
    for (const pubkey of conn.authed) {
      const refused = refusal(pubkey, 'event', conn)
      if (refused) return refused
    }
    return undefined
  })
  addHook('onReq', (filters, conn) => {
    const readers = traffic.queryBeneficiaries(filters, conn)
    if (readers === undefined) return undefined
    for (const reader of readers) {
      const refused = refusal(reader, 'query', conn)
      if (refused) return refused
    }
    return undefined
  })
  addHook('onDeliver', (event, conn) => {
    for (const reader of readersOf(event, conn)) {
      const refused = refusal(reader, 'delivery', conn)
      if (refused) return refused
    }
    return undefined
  })
  addHook('onServed', (served, conn) => {
    if (served.verb === 'EVENT') {
      const sender = accountOf(conn)
      if (sender === undefined || traffic.eventBeneficiaries(served.event) === undefined) return
      accounts.charge(sender, { kind: 'event', bytes: served.bytes })
    } else if (served.verb === 'LIVE') {
      const readers = readersOf(served.event, conn)
      if (readers.length > 0) chargeReaders(readers, 'delivery', served.bytes)
    } else {
      const readers = traffic.queryBeneficiaries(served.filters, conn)
      if (readers !== undefined && readers.length > 0) chargeReaders(readers, 'query', served.bytes)
    }
  })
}

/** Installs the hooks of every paid service (call after the services registered theirs). */
export function registerAccessHooks(
  addHook: AddHook,
  services: readonly Service[],
  modeOf: (service: string) => 'free' | 'subscription' | 'metered',
  parts: { subscriptions: AccessTable; accounts: Meter | undefined; unit: string },
): void {
  for (const service of services) {
    const mode = modeOf(service.name)
    if (mode === 'free' || !service.traffic) continue
    if (mode === 'subscription') {
      gateBySubscription(addHook, service.name, service.traffic, parts.subscriptions)
    } else if (parts.accounts) {
      meter(addHook, service.name, service.traffic, parts.accounts, parts.unit)
    }
  }
}
