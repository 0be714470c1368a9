// Attacks that turn something the node signs into somebody else's login: a stranger reads the
// relay's NIP-42 challenge, asks the node's key proof (GET /proof) to sign that very challenge,
// and sends the proof back as AUTH — had the proof been a kind-22242 event, the stranger would
// be logged in as the node (a member node passes the rate limits and reads all private mail).
import { verifyEvent } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUTH_KIND, NODE_PROOF_KIND } from '@hansa/protocol'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

describe('attack: replaying the node key proof as NIP-42 AUTH', () => {
  let node: TestNode

  beforeAll(async () => {
    node = await startTestNode()
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('the proof the node signs for a relay challenge is refused as AUTH', async () => {
    const client = await RawClient.connect(node.url)
    const [, challenge] = (await client.next((m) => m[0] === 'AUTH')) as [string, string]
    const answer = await fetch(
      `${node.httpUrl}/proof?challenge=${challenge}&relay=${encodeURIComponent(node.url)}`,
    )
    // The node either refuses to sign a challenge shaped like its own relay's, or signs
    // something that is not an AUTH event; both leave the stranger unauthenticated.
    if (answer.status === 200) {
      const { proof } = (await answer.json()) as { proof: Parameters<typeof verifyEvent>[0] }
      expect(verifyEvent(proof)).toBe(true)
      expect(proof.kind).toBe(NODE_PROOF_KIND)
      expect(proof.kind).not.toBe(AUTH_KIND)
      client.send(['AUTH', proof])
      const ok = await client.next((m) => m[0] === 'OK' && m[1] === proof.id)
      expect(ok[2]).toBe(false)
      expect(String(ok[3])).toMatch(/^(invalid|auth-required|restricted):/)
    }
    // Whatever happened, the connection is not the node: a REQ for the node's private view
    // (gift wraps addressed to the node key) is refused before AUTH.
    client.send(['REQ', 'mine', { kinds: [1059], '#p': [node.key.pubkey] }])
    const closed = await client.next(
      (m) => m[1] === 'mine' && (m[0] === 'CLOSED' || m[0] === 'EOSE'),
    )
    expect(closed[0]).toBe('CLOSED')
    expect(String(closed[2])).toMatch(/^auth-required:/)
    client.close()
  })

  it('no proof the node signs is a NIP-42 AUTH event another relay could take', async () => {
    // A relay elsewhere whose challenges are 32 hex bytes, and which does not insist on its own
    // URL in the relay tag, would accept a kind-22242 proof: so no proof may be kind 22242.
    const challenge = 'ab'.repeat(32)
    const answer = await fetch(`${node.httpUrl}/proof?challenge=${challenge}`)
    expect(answer.status).toBe(200)
    const { proof } = (await answer.json()) as { proof: { kind: number; tags: string[][] } }
    expect(proof.kind).toBe(NODE_PROOF_KIND)
    expect(proof.kind).not.toBe(AUTH_KIND)
    expect(proof.tags).toContainEqual(['challenge', challenge])
  })
})
