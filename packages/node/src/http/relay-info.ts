// NIP-11 relay information document, with Hansa's `hansa` object: which federation this
// node belongs to and at which manifest version (null while the node runs standalone).
import type { NodeConfig } from '../config.js'

export const SOFTWARE_URL = 'https://github.com/hansa-federation/hansa'
export const SOFTWARE_VERSION = '0.1.0'

export type HansaInfo = {
  federationId: string | null
  manifestVersion: number | null
  coordinator: string | null
  services: string[]
}

/** Paid access, when billing runs: NIP-11 `fees` and whether payment is required. */
export type PaidInfo = { fees: object; paymentRequired: boolean; paymentsUrl: string }

/**
 * NIPs every Hansa node supports. 17 and 59 (the inbox's gift wraps) stay listed whether or not
 * the inbox runs: a node always relays them like any other event.
 */
export const BASE_NIPS: readonly number[] = [1, 9, 11, 17, 40, 42, 45, 59]

export function relayInformation(
  config: NodeConfig,
  pubkey: string,
  hansa: HansaInfo,
  paid?: PaidInfo,
  /** NIPs the services that are on add (Service.nips). */
  serviceNips: readonly number[] = [],
) {
  const { limits } = config
  return {
    name: config.name,
    description: config.description,
    pubkey,
    contact: config.contact || undefined,
    supported_nips: [...new Set([...BASE_NIPS, ...serviceNips])].sort((a, b) => a - b),
    software: SOFTWARE_URL,
    version: SOFTWARE_VERSION,
    limitation: {
      max_message_length: limits.maxMessageBytes,
      max_subscriptions: limits.maxSubscriptions,
      max_filters: limits.maxFilters,
      max_limit: limits.maxLimit,
      default_limit: limits.defaultLimit,
      max_subid_length: 64,
      max_event_tags: limits.maxEventTags,
      max_content_length: limits.maxContentBytes,
      min_pow_difficulty: 0,
      auth_required: false,
      payment_required: paid?.paymentRequired ?? false,
      restricted_writes: config.policy.allowedPubkeys.length > 0,
      created_at_upper_limit: limits.maxFutureSeconds,
    },
    ...(paid?.paymentRequired ? { payments_url: paid.paymentsUrl } : {}),
    fees: paid?.fees ?? {},
    hansa,
  }
}
