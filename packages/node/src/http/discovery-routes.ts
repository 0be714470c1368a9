// Discovery over HTTP (docs/discovery.md):
// - GET /discovery: this node's ENR and Discovery v5 endpoint. Other nodes of the federation
//   seed their discv5 tables from it (the manifest lists the URLs, not the ENRs), and clients
//   use the ENRs as bootnodes for their own lookups.
// - POST /discovery/enr {"enr": "enr:…"}: a node of the federation hands over its current ENR
//   (a node restarted on a new address: @chainsafe/discv5 11 never carries the newer record in
//   its handshake, see discovery/enr.ts). Only the ENRs of keys the manifest lists are taken,
//   so the route cannot fill the table with strangers; anyone else uses discv5 itself.
// - GET /proof?challenge=<64 hex>&relay=<url>: the node proves it holds its key, NIP-42 the
//   other way round (packages/protocol/src/node-proof.ts): a kind-29242 event signed by the
//   node key with the client's challenge and the URL the client contacted. The node signs only
//   its own URLs (its public URL and those its manifest entry lists), so nobody can obtain
//   from it a proof that passes for another server.
import { Type } from '@sinclair/typebox'
import {
  type NodeRecord,
  isNodeProofChallenge,
  nodeProofTemplate,
  sameRelayUrl,
} from '@hansa/protocol'
import type { FastifyInstance } from 'fastify'
import { finalizeEvent } from 'nostr-tools/pure'
import { readPeer } from '../discovery/enr.js'
import type { NodeDiscovery } from '../discovery/node-discovery.js'

export type DiscoveryRoutesOptions = {
  /** The running discovery service, or null when `discovery.enabled` is false. */
  discovery: () => NodeDiscovery | null
  secretKey: Uint8Array
  pubkey: string
  /** The node's public ws:// URL (known only after listen). */
  publicUrl: () => string
  /** The URLs the manifest lists for this node. */
  listedUrls: () => readonly string[]
  /** What the ENR would carry (shown when discovery is off). */
  record: () => NodeRecord
  /** Whether the manifest lists this node key (POST /discovery/enr takes only those). */
  isMember: (pubkey: string) => boolean
  now: () => number
}

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' })
const ErrorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
})
const RecordSchema = Type.Object({
  federationId: Type.Union([Hex64, Type.Null()]),
  services: Type.Array(Type.String()),
  wsUrl: Type.String(),
})

const discoverySchema = {
  summary: "This node's Discovery v5 record (ENR) and UDP endpoint",
  tags: ['discovery'],
  response: {
    200: Type.Object({
      enabled: Type.Boolean(),
      enr: Type.Union([Type.String({ description: 'enr:… (EIP-778 text form)' }), Type.Null()]),
      nodeId: Type.Union([Type.String(), Type.Null()]),
      pubkey: Hex64,
      ip: Type.Union([Type.String(), Type.Null()]),
      udpPort: Type.Union([Type.Integer(), Type.Null()]),
      record: RecordSchema,
      peers: Type.Integer({ description: 'nodes in the discv5 routing table' }),
    }),
  },
}

const offerSchema = {
  summary: "A federation node's current ENR, for this node's Discovery v5 table",
  tags: ['discovery'],
  body: Type.Object({ enr: Type.String({ maxLength: 1024 }) }),
  response: {
    200: Type.Object({ added: Type.Boolean() }),
    400: ErrorSchema,
    403: ErrorSchema,
    409: ErrorSchema,
  },
}

const proofSchema = {
  summary:
    'Prove this node holds its key: a kind-29242 event (never a NIP-42 AUTH) signed for your challenge',
  tags: ['discovery'],
  querystring: Type.Object({
    challenge: Type.String({ description: '32 random bytes, lowercase hex' }),
    relay: Type.Optional(
      Type.String({ description: 'the URL you contacted (default: the public URL)' }),
    ),
  }),
  response: {
    200: Type.Object({
      proof: Type.Object(
        {
          id: Hex64,
          pubkey: Hex64,
          created_at: Type.Integer(),
          kind: Type.Integer(),
          tags: Type.Array(Type.Array(Type.String())),
          content: Type.String(),
          sig: Type.String(),
        },
        { description: 'NIP-01 event, kind 29242, tags relay and challenge' },
      ),
    }),
    400: ErrorSchema,
  },
}

export async function discoveryRoutes(
  app: FastifyInstance,
  options: DiscoveryRoutesOptions,
): Promise<void> {
  app.get('/discovery', { schema: discoverySchema }, async (_request, reply) => {
    reply.header('access-control-allow-origin', '*')
    const discovery = options.discovery()
    if (discovery === null) {
      return {
        enabled: false,
        enr: null,
        nodeId: null,
        pubkey: options.pubkey,
        ip: null,
        udpPort: null,
        record: options.record(),
        peers: 0,
      }
    }
    const status = discovery.status()
    return { enabled: true, ...status, pubkey: options.pubkey }
  })

  app.post('/discovery/enr', { schema: offerSchema }, async (request, reply) => {
    const discovery = options.discovery()
    if (discovery === null) {
      return reply.code(409).send({
        error: { code: 'HANSA_DISCOVERY_OFF', message: "this node's discovery is off" },
      })
    }
    const peer = readPeer((request.body as { enr: string }).enr)
    if (peer === null) {
      return reply.code(400).send({
        error: {
          code: 'HANSA_ENR_INVALID',
          message: 'the ENR does not decode or its signature does not verify',
        },
      })
    }
    if (!options.isMember(peer.pubkey)) {
      return reply.code(403).send({
        error: {
          code: 'HANSA_ENR_NOT_MEMBER',
          message: `the manifest lists no node ${peer.pubkey.slice(0, 12)}…; other nodes announce themselves over discv5`,
        },
      })
    }
    return { added: discovery.addEnr(peer.enr, `POST /discovery/enr from ${request.ip}`) }
  })

  app.get('/proof', { schema: proofSchema }, async (request, reply) => {
    reply.header('access-control-allow-origin', '*')
    const query = request.query as { challenge: string; relay?: string }
    const refuse = (code: string, message: string) =>
      reply.code(400).send({ error: { code, message } })
    if (!isNodeProofChallenge(query.challenge)) {
      return refuse(
        'HANSA_PROOF_CHALLENGE',
        'the challenge must be 32 random bytes in lowercase hex (64 characters)',
      )
    }
    const own = [options.publicUrl(), ...options.listedUrls()]
    const relay = query.relay ?? options.publicUrl()
    if (!own.some((url) => sameRelayUrl(url, relay))) {
      return refuse(
        'HANSA_PROOF_RELAY',
        `${relay} is not one of this node's URLs (${own.join(', ')}); it signs proofs only for its own`,
      )
    }
    const proof = finalizeEvent(
      nodeProofTemplate(query.challenge, relay, options.now()),
      options.secretKey,
    )
    return { proof }
  })
}
