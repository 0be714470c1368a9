// A second client implementation nobody here wrote — NDK — publishes, queries, and runs the
// whole offline-inbox journey (NIP-17 gift wrap, NIP-42 AUTH) against a real node.
import NDK, {
  NDKEvent,
  NDKPrivateKeySigner,
  NDKRelayAuthPolicies,
  giftUnwrap,
  giftWrap,
} from '@nostr-dev-kit/ndk'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

// NDK uses the global WebSocket, which Node 20 does not have.
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

async function client(url: string, signer: NDKPrivateKeySigner, auth: boolean): Promise<NDK> {
  const ndk = new NDK({ explicitRelayUrls: [url], signer, enableOutboxModel: false })
  if (!auth) {
    await ndk.connect(3000)
    return ndk
  }
  ndk.relayAuthDefaultPolicy = NDKRelayAuthPolicies.signIn({ ndk })
  const relay = [...ndk.pool.relays.values()][0]!
  // The node challenges on connect; NDK answers and emits 'authed' once the node says OK.
  const authed = new Promise((resolve) => relay.once('authed', resolve))
  await ndk.connect(3000)
  await authed
  return ndk
}

const close = (ndk: NDK) => {
  for (const relay of ndk.pool.relays.values()) relay.disconnect()
}

describe('NDK against a Hansa node', () => {
  let node: TestNode
  const alice = NDKPrivateKeySigner.generate()
  const bob = NDKPrivateKeySigner.generate()
  const eve = NDKPrivateKeySigner.generate()

  beforeAll(async () => {
    node = await startTestNode()
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('publishes and queries by author, kind and tag', async () => {
    const ndk = await client(node.url, bob, false)
    const note = new NDKEvent(ndk, { kind: 1, content: 'hello from NDK', tags: [['t', 'ndk']] })
    await note.publish()
    const byAuthor = await ndk.fetchEvents({ authors: [(await bob.user()).pubkey], kinds: [1] })
    expect([...byAuthor].map((e) => e.content)).toEqual(['hello from NDK'])
    const byTag = await ndk.fetchEvents({ '#t': ['ndk'] })
    expect([...byTag].map((e) => e.id)).toEqual([note.id])
    close(ndk)
  })

  it('keeps a gift-wrapped message for offline Alice and hands it only to her', async () => {
    const aliceUser = await alice.user()
    const bobNdk = await client(node.url, bob, false)
    const rumor = new NDKEvent(bobNdk, {
      kind: 14,
      pubkey: (await bob.user()).pubkey,
      created_at: Math.floor(Date.now() / 1000),
      content: 'sent with NDK while you were away',
      tags: [['p', aliceUser.pubkey]],
    })
    const wrapped = await giftWrap(rumor, aliceUser, bob)
    expect(wrapped.kind).toBe(1059)
    await wrapped.publish()
    close(bobNdk)

    const eveNdk = await client(node.url, eve, true)
    const seenByEve = await eveNdk.fetchEvents({ kinds: [1059] })
    expect([...seenByEve].map((e) => e.id)).not.toContain(wrapped.id)
    close(eveNdk)

    const aliceNdk = await client(node.url, alice, true)
    const mail = await aliceNdk.fetchEvents({ kinds: [1059], '#p': [aliceUser.pubkey] })
    expect([...mail].map((e) => e.id)).toEqual([wrapped.id])
    const opened = await giftUnwrap([...mail][0]!, undefined, alice)
    expect(opened.content).toBe('sent with NDK while you were away')
    expect(opened.pubkey).toBe((await bob.user()).pubkey)
    close(aliceNdk)
  })
})
