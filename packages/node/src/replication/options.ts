// Replication's options: the NIP-77 server's bounds (what any client may ask of this node) and
// how this node keeps its peers in step (docs/replication.md).
import { option } from '../config/option.js'

export const replicationOptions = option.section({
  enabled: option.boolean(true, {
    description:
      "Share the services' replicated events with the other member nodes the manifest lists for each service (a live subscription at each and NIP-77 catch-up). The NIP-77 server runs either way.",
  }),
  reconcileIntervalSeconds: option.integer(300, {
    description:
      'How often each peer is reconciled by negentropy besides start, manifest changes and reconnects; each wait is jittered between half and one and a half times this.',
    min: 5,
  }),
  timeoutSeconds: option.integer(10, {
    description:
      'How long a peer may take to answer one step (AUTH, NEG-MSG, a fetch, an OK) before the attempt fails with a timeout.',
    min: 1,
  }),
  liveQueue: option.integer(10000, {
    description:
      'Events received live from one peer and waiting to be stored; past it the oldest are dropped and the peer is reconciled once this node keeps up.',
    min: 1,
  }),
  negentropyMaxSessions: option.integer(4, {
    description: 'Open NIP-77 sessions one connection may hold (NEG-OPEN past it: NEG-ERR).',
    min: 1,
  }),
  negentropyMaxRecords: option.integer(500000, {
    description:
      'Most events one NEG-OPEN may reconcile; a larger filter is refused "blocked: this query is too big".',
    min: 1,
  }),
  negentropyFrameBytes: option.integer(60000, {
    description:
      'Largest negentropy message this node sends (bytes before hex; NIP-77 frame size limit, at least 4096).',
    min: 4096,
  }),
  negentropyIdleSeconds: option.integer(60, {
    description: 'A NIP-77 session with no NEG-MSG for this long is closed with NEG-ERR.',
    min: 1,
  }),
})
