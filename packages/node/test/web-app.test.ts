// The web app's route (/app) and what the app needs from every node: the built files served
// with their types and never a file outside the app's folder, a plain message when the app is
// not built, cross-origin answers (preflights too) for the JSON API, and the books over time
// at GET /billing/history for the node key only.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeRequestError, getBillingHistory } from '@hansa/client'
import { readKeyFile } from '@hansa/node'
import Fastify from 'fastify'
import { generateSecretKey } from 'nostr-tools/pure'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webAppRoutes } from '../dist/http/web-app.js'
import { type TestNode, removeDir, startTestNode } from './helpers.js'

describe('/app', () => {
  const log = pino({ level: 'silent' })

  it('serves the built files, the app for unknown paths, and nothing outside its folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hansa-web-dist-'))
    mkdirSync(join(dir, 'assets'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Hansa</title>')
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)')
    writeFileSync(join(tmpdir(), 'hansa-secret.txt'), 'TOP-SECRET-CONTENT')
    const app = Fastify()
    await webAppRoutes(app, { dir, log })
    const get = (url: string) => app.inject({ method: 'GET', url })
    expect((await get('/app')).statusCode).toBe(302)
    const index = await get('/app/')
    expect(index.headers['content-type']).toMatch(/text\/html/)
    expect(index.body).toContain('<title>Hansa</title>')
    const js = await get('/app/assets/app.js')
    expect(js.headers['content-type']).toMatch(/javascript/)
    expect(js.headers['cache-control']).toMatch(/max-age/)
    expect((await get('/app/some/route')).body).toContain('<title>Hansa</title>')
    for (const path of [
      '/app/../hansa-secret.txt',
      '/app/..%2Fhansa-secret.txt',
      '/app/%2e%2e/%2e%2e/hansa-secret.txt',
    ]) {
      expect((await get(path)).body).not.toContain('TOP-SECRET-CONTENT')
    }
    await app.close()
    removeDir(dir)
  })

  it('says how to build the app when it is not built, and the rest of the node still answers', async () => {
    const app = Fastify()
    await webAppRoutes(app, { dir: join(tmpdir(), 'hansa-no-such-dist'), log })
    app.get('/health', async () => ({ status: 'ok' }))
    const r = await app.inject({ method: 'GET', url: '/app/' })
    expect(r.statusCode).toBe(503)
    expect(r.body).toMatch(/npm run build/)
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
    await app.close()
  })
})

describe('what the web app needs from a node', () => {
  let node: TestNode
  beforeAll(async () => {
    node = await startTestNode({ 'inbox.access': 'subscription' })
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('answers cross-origin requests and their preflights', async () => {
    const terms = await fetch(`${node.httpUrl}/terms`, { headers: { origin: 'http://elsewhere' } })
    expect(terms.headers.get('access-control-allow-origin')).toBe('*')
    const preflight = await fetch(`${node.httpUrl}/subscriptions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://elsewhere',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/)
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/)
  })

  it('gives the books over time to the node key only', async () => {
    const key = readKeyFile(join(node.dataDir, 'node.key'))
    const history = await getBillingHistory(node.url, key.secretKey)
    expect(history.points.length).toBeGreaterThan(0)
    expect(history.points.at(-1)!.values).toMatchObject({ received: '0', income: '0', devTax: '0' })
    const stranger = await getBillingHistory(node.url, generateSecretKey()).catch((e) => e)
    expect(stranger).toBeInstanceOf(NodeRequestError)
    expect(stranger).toMatchObject({ status: 403, code: 'HANSA_BILLING_FORBIDDEN' })
    const anonymous = await fetch(`${node.httpUrl}/billing/history`)
    expect(anonymous.status).toBe(401)
  })
})

describe('the books history options', () => {
  let node: TestNode
  let clock = 1_900_000_000
  const now = () => clock
  beforeAll(async () => {
    node = await startTestNode(
      { 'billing.history.sampleSeconds': 1, 'billing.history.retentionDays': 1 },
      undefined,
      now,
    )
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('samples every billing.history.sampleSeconds and keeps billing.history.retentionDays', async () => {
    const key = readKeyFile(join(node.dataDir, 'node.key')).secretKey
    const first = await getBillingHistory(node.url, key, { now })
    expect(first.sampleSeconds).toBe(1)
    expect(first.points.map((p) => p.at)).toContain(1_900_000_000)
    clock += 2 * 86_400
    // The next sample prunes the point two days old.
    const { points } = await getBillingHistory(node.url, key, { now })
    expect(points.map((p) => p.at)).toContain(clock)
    expect(points.map((p) => p.at)).not.toContain(1_900_000_000)
  })
})
