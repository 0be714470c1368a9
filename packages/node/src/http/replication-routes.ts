// GET /federation/sync-status: where this node stands with each replication peer (lag, events
// sent and received, the last negentropy catch-up), for `hansa federation sync-status`.
// Anyone may read it: it names member nodes the public manifest lists already, and counts; a
// web page may too (the joint book asks a member how it stands with the nodes it did not ask).
import { SyncStatusSchema } from '@hansa/protocol'
import type { FastifyInstance } from 'fastify'
import type { Replicator } from '../replication/replicator.js'

export async function replicationRoutes(
  app: FastifyInstance,
  options: { replication: Replicator },
): Promise<void> {
  const { replication } = options
  const document = () => ({
    node: replication.options.nodeKey.pubkey,
    enabled: replication.enabled,
    peers: replication.status(),
  })
  app.get(
    '/federation/sync-status',
    {
      schema: {
        summary: 'Replication with each peer member node: lag, events sent/received, last catch-up',
        tags: ['federation'],
        response: { 200: SyncStatusSchema },
      },
    },
    async (_request, reply) => {
      reply.header('access-control-allow-origin', '*')
      return document()
    },
  )
}
