// Attacks on NIP-98 (HTTP auth) against running nodes: a token signed for another node's URL
// and sent with a forged Host header (a member coordinator replaying its users' tokens at a
// rival), the same token sent twice, and a node with no public URL reached from elsewhere.
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Nip98Auth } from '../src/http/nip98-auth.js'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

const user = generateSecretKey()
const tokenFor = (url: string, method = 'GET') =>
  getToken(url, method, (e) => finalizeEvent(e, user), true)

async function get(url: string, headers: Record<string, string>) {
  const response = await fetch(url, { headers })
  const body = (await response.json()) as { error?: { code: string; message: string } }
  return { status: response.status, code: body.error?.code, message: body.error?.message ?? '' }
}

describe('attacks on NIP-98', () => {
  let node: TestNode
  let local: TestNode
  const publicUrl = 'wss://node-a.hansa.example'

  beforeAll(async () => {
    node = await startTestNode({ publicUrl })
    local = await startTestNode()
  })
  afterAll(async () => {
    await node.stop()
    await local.stop()
    removeDir(node.dataDir)
    removeDir(local.dataDir)
  })

  it('a token whose u names the Host the client chose (not the public URL) is refused', async () => {
    const direct = `http://127.0.0.1:${node.port}/account`
    const answer = await get(direct, { authorization: await tokenFor(direct) })
    expect([answer.status, answer.code]).toEqual([401, 'HANSA_HTTP_AUTH'])
    expect(answer.message).toMatch(/u tag/)
    // a token for another node, with the Host header forged to match it: still refused
    const rival = `http://rival.hansa.example/account`
    const forged = await get(direct, {
      authorization: await tokenFor(rival),
      host: 'rival.hansa.example',
    })
    expect(forged.status).toBe(401)
  })

  it('a token signed for the public URL is accepted once; a replay is refused', async () => {
    const port = node.port
    const token = await tokenFor('https://node-a.hansa.example/account')
    const first = await get(`http://127.0.0.1:${port}/account`, { authorization: token })
    expect(first.status).toBe(200)
    const again = await get(`http://127.0.0.1:${port}/account`, { authorization: token })
    expect([again.status, again.code]).toEqual([401, 'HANSA_HTTP_AUTH'])
    expect(again.message).toMatch(/already used/)
  })

  it('a node without a public URL accepts NIP-98 from loopback only', async () => {
    const url = `${local.httpUrl}/account`
    expect((await get(url, { authorization: await tokenFor(url) })).status).toBe(200)
    // the same check a request from another machine meets (tests listen on loopback only)
    const auth = new Nip98Auth({
      publicUrl: '',
      listenUrl: () => local.url,
      now: () => Math.floor(Date.now() / 1000),
    })
    const request = {
      method: 'GET',
      url: '/account',
      headers: { authorization: await tokenFor(url) },
      rawBody: undefined,
    }
    await expect(auth.pubkey({ ...request, ip: '203.0.113.9' })).rejects.toThrow(
      /no public URL configured/,
    )
    await expect(auth.pubkey({ ...request, ip: '127.0.0.1' })).resolves.toMatch(/^[0-9a-f]{64}$/)
  })
})
