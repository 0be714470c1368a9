// The verify step shared by ingest and AUTH: an event's id and BIP-340 signature, checked by
// the node's verifier (a worker pool). A failing verifier (a crashed worker) is an answer,
// 'unavailable', not a throw, so the client is told to try again.
import { type NostrEvent, eventIdPreimage } from '@hansa/protocol'
import type { CheckResult } from '../verify/event-verifier.js'
import type { StageContext } from './stage-context.js'

export async function checkSignature(
  ctx: Pick<StageContext, 'verifier' | 'log'>,
  event: NostrEvent,
  preimage = eventIdPreimage(event),
): Promise<CheckResult | 'unavailable'> {
  try {
    return await ctx.verifier.check({
      id: event.id,
      pubkey: event.pubkey,
      sig: event.sig,
      serialized: preimage,
    })
  } catch (err) {
    ctx.log.error({ err, id: event.id }, 'signature check failed')
    return 'unavailable'
  }
}
