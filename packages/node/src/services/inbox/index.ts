// The inbox: the Status "mail server". NIP-17 private messages arrive as NIP-59 gift wraps
// (kind 1059) addressed by their `p` tag; the node keeps them while the recipient is offline
// and serves them only to her, once she proves her key with NIP-42 AUTH. Her inbox relay
// list (kind 10050) is an ordinary replaceable event, served to anyone so senders find her.
// Mail is pruned a retention period after the node received it (a gift wrap's created_at is
// randomised up to two days into the past by NIP-59, so it cannot be the clock).
import type { Filter } from '@hansa/protocol'
import { isHex64 } from '@hansa/protocol'
import { type ServiceTraffic, defineService } from '../service.js'
import { refuse } from '../../relay/refusal.js'
import { inboxOptions } from './options.js'

import { GIFT_WRAP_KIND } from '../../relay/private-kinds.js'

export { GIFT_WRAP_KIND }
export const INBOX_RELAYS_KIND = 10050

/**
 * Does this filter ask for gift wraps by kind? Only such requests are refused before AUTH;
 * a filter without `kinds` may still match gift wraps, and the store leaves out those the
 * reader may not see (they are private kinds), so it is answered like any other.
 */
const asksForGiftWraps = (f: Filter) => f.kinds?.includes(GIFT_WRAP_KIND) ?? false

/**
 * The inbox's own traffic, for paid access: a gift wrap is for its `p` recipients; a query
 * that may return gift wraps (its kinds include 1059, or it names none) reads the mail of
 * the authenticated pubkeys it could return mail for (all of them, or those in its `#p`).
 */
export const inboxTraffic: ServiceTraffic = {
  kinds: [GIFT_WRAP_KIND],
  eventBeneficiaries(event) {
    if (event.kind !== GIFT_WRAP_KIND) return undefined
    const recipients: string[] = []
    for (const t of event.tags) if (t[0] === 'p' && t[1] !== undefined) recipients.push(t[1])
    return recipients
  },
  queryBeneficiaries(filters, conn) {
    if (conn.authed.size === 0) return undefined
    const readers = new Set<string>()
    for (const f of filters) {
      if (f.kinds && !f.kinds.includes(GIFT_WRAP_KIND)) continue
      const named = f['#p']
      for (const pubkey of conn.authed) if (!named || named.includes(pubkey)) readers.add(pubkey)
    }
    return readers.size > 0 ? [...readers] : undefined
  },
}

export const inboxService = defineService({
  name: 'inbox',
  options: inboxOptions,
  privateKinds: [GIFT_WRAP_KIND],
  // NIP-17 private messages in NIP-59 gift wraps (the node lists both whether or not it runs).
  nips: [17, 59],
  traffic: inboxTraffic,
  // Mail and inbox relay lists, so a recipient whose node is down finds them on another member.
  replication: [{ kinds: [GIFT_WRAP_KIND, INBOX_RELAYS_KIND] }],
  register(ctx) {
    ctx.addHook('onEvent', (event) => {
      if (event.kind !== GIFT_WRAP_KIND) return undefined
      const recipients = event.tags.filter((t) => t[0] === 'p')
      if (recipients.length === 0 || !recipients.every((t) => isHex64(t[1]))) {
        return refuse(
          'invalid',
          'gift-wrap-recipient',
          'a gift wrap (kind 1059) must name its recipient in a p tag (64 hex characters)',
        )
      }
      return undefined
    })

    ctx.addHook('onReq', (filters, conn) => {
      for (const f of filters) {
        if (!asksForGiftWraps(f)) continue
        if (conn.authed.size === 0) {
          return refuse(
            'auth-required',
            'inbox-auth',
            'gift wraps (kind 1059) are served only to their recipient: authenticate with NIP-42 first',
          )
        }
        const others = (f['#p'] ?? []).filter((p) => !conn.authed.has(p))
        if (others.length > 0) {
          return refuse(
            'restricted',
            'inbox-not-recipient',
            `gift wraps are served only to their recipient; this connection is not authenticated as ${others[0]}`,
          )
        }
      }
      return undefined
    })

    ctx.addMaintenanceTask('inbox-retention', async () => {
      const days = ctx.options.retentionDays
      const before = ctx.now() - Math.floor(days * 86400)
      const pruned = await ctx.store.pruneReceivedBefore([GIFT_WRAP_KIND], before)
      if (pruned > 0)
        ctx.log.info({ pruned, retentionDays: days }, 'inbox: pruned mail past retention')
    })
  },
})
