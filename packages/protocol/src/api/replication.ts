// GET /federation/sync-status: how a node stands with each peer it replicates with (the
// member nodes the manifest lists with a service it shares), for `hansa federation
// sync-status` and dashboards. The same figures are in /metrics (hansa_replication_*).
import { type Static, Type } from '@sinclair/typebox'
import { Hex64 } from './common.js'

export const PeerSyncStatusSchema = Type.Object({
  pubkey: Hex64,
  coordinator: Type.String(),
  url: Type.String(),
  services: Type.Array(Type.String()),
  connected: Type.Boolean(),
  /** Seconds the oldest event not yet acknowledged by the peer has waited (0: in step). */
  lagSeconds: Type.Number(),
  queued: Type.Integer(),
  eventsSent: Type.Integer(),
  eventsReceived: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastReconcile: Type.Union([
    Type.Object({
      at: Type.Integer(),
      durationMs: Type.Number(),
      bytes: Type.Integer(),
      fetched: Type.Integer(),
      peerLacks: Type.Integer(),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
})

export const SyncStatusSchema = Type.Object({
  node: Hex64,
  enabled: Type.Boolean(),
  peers: Type.Array(PeerSyncStatusSchema),
})
/** GET /federation/sync-status. */
export type SyncStatusDocument = Static<typeof SyncStatusSchema>
export type PeerSyncStatus = Static<typeof PeerSyncStatusSchema>
