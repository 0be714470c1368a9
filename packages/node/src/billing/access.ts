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
// metered       onEvent/onReq  the connection's account (the first pubkey it authenticated as,
//                        NIP-42) must exist (`auth-required:`) and be within the disconnect
//                        threshold (`payment-required:` with the balance; soft mode serves)
//               onServed the event stored or the query answered is charged to that account:
//                        base price + ⌈bytes × kilobyte price / 1024⌉
import type { NostrEvent, SwapRequest } from '@hansa/protocol'
import type { ConnectionInfo } from '../relay/connection.js'
import { type Refusal, refuse } from '../relay/refusal.js'
import type { Hooks, HookName, Service, ServiceTraffic } from '../services/service.js'
import type { Subscriptions } from './subscriptions.js'
import type { SwapAccounts } from './swap-accounts.js'

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
  subscriptions: Subscriptions,
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
  accounts: SwapAccounts,
  unit: string,
): void {
  const check = (conn: ConnectionInfo, kind: SwapRequest['kind']): Refusal | undefined => {
    const peer = accountOf(conn)
    if (peer === undefined) {
      return refuse(
        'auth-required',
        'metered-auth',
        `this node meters the ${service}: authenticate (NIP-42) so your account can be charged`,
      )
    }
    const decision = accounts.admit(peer, kind)
    if (decision.serve) return undefined
    return refuse(
      'payment-required',
      'swap-disconnect',
      `you owe ${decision.balance} ${unit}, past this node's disconnect threshold of ${decision.disconnectThreshold} ${unit}; send a cheque (POST /cheques) to continue`,
    )
  }
  addHook('onEvent', (event, conn) =>
    traffic.eventBeneficiaries(event) === undefined ? undefined : check(conn, 'event'),
  )
  addHook('onReq', (filters, conn) =>
    traffic.queryBeneficiaries(filters, conn) === undefined ? undefined : check(conn, 'query'),
  )
  addHook('onServed', (served, conn) => {
    const peer = accountOf(conn)
    if (peer === undefined) return
    if (served.verb === 'EVENT') {
      if (traffic.eventBeneficiaries(served.event) === undefined) return
      accounts.charge(peer, { kind: 'event', bytes: served.bytes })
    } else if (traffic.queryBeneficiaries(served.filters, conn) !== undefined) {
      accounts.charge(peer, { kind: 'query', bytes: served.bytes })
    }
  })
}

/** Installs the hooks of every paid service (call after the services registered theirs). */
export function registerAccessHooks(
  addHook: AddHook,
  services: readonly Service[],
  modeOf: (service: string) => 'free' | 'subscription' | 'metered',
  parts: { subscriptions: Subscriptions; accounts: SwapAccounts | undefined; unit: string },
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
