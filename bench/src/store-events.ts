// Unsigned events shaped as the relay-load corpus is, for the benches that drive the stores
// directly (the stores do not verify): half notes with an optional reply tag, half
// gift-wrap-shaped events with one `p` tag and a one-time author.
import { randomBytes } from 'node:crypto'
import type { StoredEventInput } from '@hansa/node'
import type { NostrEvent } from '@hansa/protocol'

const hex = (n: number) => randomBytes(n).toString('hex')
export const RECIPIENTS = Array.from({ length: 100 }, () => hex(32))
export const AUTHORS = Array.from({ length: 200 }, () => hex(32))

/** `count` fresh events (new ids each call), created within the hour before `now`. */
export function makeEvents(count: number, now: number): StoredEventInput[] {
  return Array.from({ length: count }, (_, i) => {
    const wrap = i % 2 === 1
    const event: NostrEvent = {
      id: hex(32),
      pubkey: wrap ? hex(32) : AUTHORS[i % AUTHORS.length]!,
      created_at: now - (i % 3600),
      kind: wrap ? 1059 : 1,
      tags: wrap
        ? [['p', RECIPIENTS[i % RECIPIENTS.length]!]]
        : i % 3 === 0
          ? [['e', hex(32)]]
          : [],
      content: 'x'.repeat(wrap ? 1200 : 150),
      sig: hex(64),
    }
    return { event, raw: JSON.stringify(event), receivedAt: now }
  })
}
