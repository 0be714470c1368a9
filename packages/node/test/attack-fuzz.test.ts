// A fuzzer against a running node (fast-check): generated and mutated NIP-01 frames over a
// WebSocket, and generated JSON bodies (and broken ones) to every route of its OpenAPI document.
// The node must not crash; every frame is answered or ignored as the rules say (the oracle in
// bench/src/fuzz-cases.ts), with prefixed refusals; the connection stays usable (a valid REQ
// after the frames gets its EOSE); no route answers 5xx or a refusal without a HANSA_* code;
// memory stays bounded. A bounded number of cases here; `node bench/dist/fuzz.js` runs longer.
// The relay's rate limits are off, so the frames are judged, not throttled.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frame, httpCase, routesOf, runFrames, runHttpCase } from '../../../bench/src/fuzz-cases.js'
import { type TestNode, removeDir, startTestNode } from './helpers.js'

describe('fuzzing a running node', () => {
  let node: TestNode

  beforeAll(async () => {
    node = await startTestNode({
      'limits.eventsPerSecond': 0,
      'limits.eventsPerSecondPerIp': 0,
      'limits.queriesPerSecond': 0,
      'limits.queriesPerSecondPerIp': 0,
      'limits.authPerSecond': 0,
      'orderbook.enabled': true,
    })
  })
  afterAll(async () => {
    await node?.stop()
    if (node) removeDir(node.dataDir)
  })

  it('answers generated and mutated NIP-01 frames by the rules and stays usable', async () => {
    const heapBefore = process.memoryUsage().heapUsed
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
        expect(await runFrames(node.url, frames)).toEqual([])
      }),
      { numRuns: 40, endOnFailure: true },
    )
    // Bounded: the fuzzing left no pile of state behind (subscriptions, buffers).
    const health = await (await fetch(`${node.httpUrl}/health`)).json()
    expect(health.status).toBe('ok')
    expect(node.relay.connections.size).toBeLessThanOrEqual(1)
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024)
  })

  it('answers generated JSON bodies to every HTTP route with 2xx or a coded 4xx', async () => {
    const routes = await routesOf(node.httpUrl)
    expect(routes.length).toBeGreaterThan(20)
    await fc.assert(
      fc.asyncProperty(httpCase(routes), async (c) => {
        expect(await runHttpCase(node.httpUrl, c)).toBeNull()
      }),
      { numRuns: 150, endOnFailure: true },
    )
    // Every route once with a plain JSON object, so none is left out by chance.
    for (const route of routes) {
      expect(
        await runHttpCase(node.httpUrl, { route, param: 'x', body: '{}', auth: undefined }),
      ).toBeNull()
    }
    const frames = await runFrames(node.url, ['["REQ","after",{"kinds":[1]}]'])
    expect(frames).toEqual([])
  })
})
