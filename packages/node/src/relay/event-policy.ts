// The accept/reject policy that needs no signature: size, time, author and kind rules from
// the configuration (the seed's "deny requests as a function of peer and envelope"). It runs
// before verification, so a flood of unwanted events costs no signature checks.
import type { NostrEvent } from '@hansa/protocol'
import { expirationOf } from '@hansa/protocol'
import type { NodeConfig } from '../config.js'
import { type Refusal, refuse } from './refusal.js'

export function policyRefusal(e: NostrEvent, config: NodeConfig, now: number): Refusal | undefined {
  const { limits, policy } = config
  if (policy.deniedPubkeys.includes(e.pubkey)) {
    return refuse('blocked', 'denied-pubkey', 'this author is not allowed to publish here')
  }
  if (policy.allowedPubkeys.length > 0 && !policy.allowedPubkeys.includes(e.pubkey)) {
    return refuse('restricted', 'pubkey-not-allowed', 'only listed authors may publish here')
  }
  if (policy.deniedKinds.includes(e.kind)) {
    return refuse('blocked', 'denied-kind', `kind ${e.kind} is not accepted here`)
  }
  if (policy.allowedKinds.length > 0 && !policy.allowedKinds.includes(e.kind)) {
    return refuse('blocked', 'kind-not-allowed', `kind ${e.kind} is not accepted here`)
  }
  if (e.created_at > now + limits.maxFutureSeconds) {
    return refuse(
      'invalid',
      'created-at-future',
      `created_at is more than ${limits.maxFutureSeconds} seconds in the future`,
    )
  }
  if (Buffer.byteLength(e.content, 'utf8') > limits.maxContentBytes) {
    return refuse(
      'invalid',
      'content-too-large',
      `content is larger than ${limits.maxContentBytes} bytes`,
    )
  }
  if (e.tags.length > limits.maxEventTags) {
    return refuse('invalid', 'too-many-tags', `event has more than ${limits.maxEventTags} tags`)
  }
  const expiration = expirationOf(e)
  if (expiration !== undefined && expiration <= now) {
    return refuse('invalid', 'expired', 'event has expired (NIP-40 expiration tag is in the past)')
  }
  return undefined
}
