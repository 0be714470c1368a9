// The coordinator's view of SWAP accounting in the browser: a node meters its inbox in soft mode
// (it accounts and never refuses) with a low disconnect threshold; one peer stores more mail
// than that without paying, another a little; the coordinator opens her books and sees both
// peers' balances, the first one marked out of bounds, and their balances over time.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbstractRelay } from 'nostr-tools/abstract-relay'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import {
  type NodeProcess,
  SHOTS,
  browserMissing,
  launchChromium,
  startNode,
  stopNode,
} from './browser.js'

/** Stores `count` gift wraps on the node, authenticated (NIP-42) as `secretKey`: she pays. */
async function storeMail(url: string, secretKey: Uint8Array, count: number): Promise<void> {
  const relay = new AbstractRelay(url, {
    verifyEvent,
    websocketImplementation: WebSocket as unknown as typeof globalThis.WebSocket,
  })
  relay.onauth = async (template) => finalizeEvent(template, secretKey)
  await relay.connect()
  const recipient = getPublicKey(secretKey)
  for (let i = 0; i < count; i++) {
    const wrap = finalizeEvent(
      {
        kind: 1059,
        created_at: Math.floor(Date.now() / 1000),
        tags: [['p', recipient]],
        content: `sealed mail ${i} ${'x'.repeat(200)}`,
      },
      generateSecretKey(),
    )
    try {
      await relay.publish(wrap)
    } catch (error) {
      // The first publish meets the AUTH challenge: nostr-tools answers it, then publish again.
      if (!/auth-required/.test(String(error))) throw error
      await relay.auth(async (t) => finalizeEvent(t, secretKey))
      await relay.publish(wrap)
    }
  }
  relay.close()
}

describe.skipIf(browserMissing)('the coordinator sees SWAP peers in the browser', () => {
  const root = mkdtempSync(join(tmpdir(), 'hansa-swap-'))
  let node: NodeProcess
  let browser: Browser

  beforeAll(async () => {
    node = await startNode(join(root, 'node'), {
      HANSA_INBOX_ACCESS: 'metered',
      HANSA_BILLING_METERED_SWAP: 'soft',
      HANSA_BILLING_METERED_PAYMENT_THRESHOLD: '100',
      HANSA_BILLING_METERED_DISCONNECT_THRESHOLD: '150',
    })
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    if (node) await stopNode(node)
    rmSync(root, { recursive: true, force: true })
  }, 30_000)

  it('marks the peer past the disconnect threshold out of bounds', async () => {
    await storeMail(node.url, generateSecretKey(), 8) // 8 × (20 + 1): past 150
    await storeMail(node.url, generateSecretKey(), 1) // 21: within
    const page = await (
      await browser.newContext({ viewport: { width: 1000, height: 900 } })
    ).newPage()
    await page.goto(`${node.url.replace(/^ws/, 'http')}/app/#coordinator`)
    const key = readFileSync(join(root, 'node', 'node.key'), 'utf8')
    await page.getByTestId('import-key-coordinator').fill(key)
    await page.getByTestId('import-key-button-coordinator').click()
    await page.getByTestId('coordinator-load').click()
    const peers = page.getByTestId('swap-peers')
    await peers.waitFor({ timeout: 20_000 })
    await expect(peers.locator('tbody tr').count()).resolves.toBe(2)
    await expect(peers.locator('tr.out-of-bounds').count()).resolves.toBe(1)
    await expect(peers.locator('tr.out-of-bounds').textContent()).resolves.toMatch(
      /out of bounds \(debt\)/,
    )
    // Open again: one more sample, so the plot has a line to draw.
    await page.getByTestId('coordinator-load').click()
    await page.getByText('Balance per peer over time').waitFor()
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(SHOTS, 'coordinator-swap.png'), fullPage: true })
  }, 60_000)
})
