// This node's terms, built from its configuration and signed with its key at start (and again
// whenever they are rebuilt): which services are free, sold by subscription or metered, at
// what prices, paid through which rail, with which dev-tax rate. Also their NIP-11 form.
import {
  type AccessMode,
  type MeteredTerms,
  type ServiceTerms,
  type SignedTerms,
  type SubscriptionTerms,
  type Terms,
  rateToBps,
  signTerms,
  termsIssues,
} from '@hansa/protocol'
import { ConfigError, type NodeConfig } from '../config.js'
import type { Service } from '../services/service.js'

/** The access mode the configuration gives a service (`<service>.access`; free when absent). */
export function accessModeOf(config: NodeConfig, service: string): AccessMode {
  const section: unknown = Object.entries(config).find(([name]) => name === service)?.[1]
  const mode =
    typeof section === 'object' && section !== null && 'access' in section
      ? section.access
      : undefined
  return mode === 'subscription' || mode === 'metered' ? mode : 'free'
}

export function subscriptionTerms(config: NodeConfig): SubscriptionTerms {
  const s = config.billing.subscription
  return {
    access: 'subscription',
    unit: config.billing.unit,
    price: BigInt(s.price).toString(),
    periodSeconds: Math.max(1, Math.round(s.periodDays * 86_400)),
    maxPeriods: s.maxPeriods,
    maxPubkeys: s.maxPubkeys,
  }
}

export function meteredTerms(config: NodeConfig): MeteredTerms {
  const m = config.billing.metered
  const pay = BigInt(m.paymentThreshold)
  // 0: Bee's tolerance, 25 % above the payment threshold (never below pay + one base price).
  const largest = BigInt(Math.max(m.queryPrice, m.eventPrice))
  const derived = (pay * 125n) / 100n
  const cut =
    m.disconnectThreshold > 0
      ? BigInt(m.disconnectThreshold)
      : derived < pay + largest
        ? pay + largest
        : derived
  return {
    access: 'metered',
    unit: config.billing.unit,
    prices: {
      query: BigInt(m.queryPrice).toString(),
      event: BigInt(m.eventPrice).toString(),
      kilobyte: BigInt(m.kilobytePrice).toString(),
    },
    paymentThreshold: pay.toString(),
    disconnectThreshold: cut.toString(),
    swap: m.swap,
  }
}

/** Builds this node's terms; throws ConfigError when the configuration makes invalid terms. */
export function buildTerms(
  config: NodeConfig,
  node: { pubkey: string; address: string },
  services: readonly Service[],
  now: number,
): Terms {
  const entries: Record<string, ServiceTerms> = {}
  for (const service of services) {
    const mode = accessModeOf(config, service.name)
    if (mode !== 'free' && !service.traffic) {
      throw new ConfigError(
        `${service.name}.access is ${mode}, but the ${service.name} service cannot be paid for (it declares no traffic)`,
      )
    }
    const access: ServiceTerms =
      mode === 'subscription'
        ? subscriptionTerms(config)
        : mode === 'metered'
          ? meteredTerms(config)
          : { access: 'free' }
    // A service's own fields (the order book's `trading`) sit beside its access terms.
    entries[service.name] = { ...service.terms?.(config), ...access } as ServiceTerms
  }
  let rateBps: number
  try {
    rateBps = rateToBps(config.billing.devTaxRate)
  } catch {
    throw new ConfigError(
      `billing.devTaxRate must be a number from 0 to 1 (0.2 = 20 %); got ${config.billing.devTaxRate}`,
    )
  }
  const terms: Terms = {
    hansa: 1,
    node: node.pubkey,
    issuedAt: now,
    services: entries,
    settlement: {
      rails: [config.billing.rail as Terms['settlement']['rails'][number]],
      beneficiary: node.address,
      chainId: config.billing.chainId,
    },
    devTax: { rateBps, recipient: config.billing.devFundRecipient || null },
  }
  const issues = termsIssues(terms)
  if (issues.length > 0) {
    const i = issues[0]!
    throw new ConfigError(
      `the billing options make invalid terms: ${i.path}: ${i.message}`,
      'Check billing.* in docs/configuration.md.',
    )
  }
  return terms
}

export const signNodeTerms = (terms: Terms, secretKey: Uint8Array): SignedTerms =>
  signTerms(terms, secretKey)

/**
 * NIP-11 `fees`: subscriptions as `subscription` entries (amount per period), metered event
 * prices as `publication` entries for the service's kinds, and the signed terms themselves
 * under `hansa`. NIP-11 amounts are JSON numbers; base-unit amounts beyond 2^53 lose precision
 * there, so clients read the exact figures from `hansa` (or GET /terms).
 */
export function nip11Fees(signed: SignedTerms, services: readonly Service[]) {
  const subscription: Array<{ amount: number; unit: string; period: number }> = []
  const publication: Array<{ kinds: number[]; amount: number; unit: string }> = []
  for (const [name, t] of Object.entries(signed.terms.services)) {
    if (t.access === 'subscription') {
      subscription.push({ amount: Number(t.price), unit: t.unit, period: t.periodSeconds })
    } else if (t.access === 'metered') {
      const kinds = [...(services.find((s) => s.name === name)?.traffic?.kinds ?? [])]
      publication.push({ kinds, amount: Number(t.prices.event), unit: t.unit })
    }
  }
  return {
    ...(subscription.length > 0 ? { subscription } : {}),
    ...(publication.length > 0 ? { publication } : {}),
    hansa: signed,
  }
}
