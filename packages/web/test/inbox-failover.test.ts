// The inbox failing over in a real browser: a devnet started here (startDevnet, in this
// process, so one node can die without the devnet stopping the others, as `hansa devnet`
// does), a user whose mail lives on two nodes reads it live in the page; the node serving her
// is killed (SIGKILL) mid-session; the page says it lost it and moved to the other, and mail
// sent afterwards still arrives live.
import { rmSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Devnet, startDevnet } from '@hansa/cli'
import { createHansaClient } from '@hansa/client'
import { generateSecretKey } from 'nostr-tools/pure'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHOTS, browserMissing, httpOf, launchChromium, pidOf } from './browser.js'

describe.skipIf(browserMissing)('the inbox fails over in the browser when a node dies', () => {
  const root = mkdtempSync(join(tmpdir(), 'hansa-web-failover-'))
  let devnet: Devnet
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    devnet = await startDevnet({ dataDir: join(root, 'devnet'), syncIntervalSeconds: 1 })
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await devnet?.stop().catch(() => {})
    rmSync(root, { recursive: true, force: true })
  }, 60_000)

  it('moves to her other node when the serving one is killed, and mail keeps arriving', async () => {
    // The page comes from the third node (its origin keeps her key), her mail from the others.
    const [first, second, origin] = devnet.info.nodes
    page = await (await browser.newContext({ viewport: { width: 1000, height: 900 } })).newPage()
    page.on('pageerror', (e) => console.error('page error:', e.message))
    await page.goto(`${httpOf(origin!.url)}/app/#nodes?invite=${devnet.info.inviteCode}`)
    await page.getByTestId('create-key-user').click()
    await page.getByTestId('join').click()
    const me = (await page.getByTestId('pubkey-user').getAttribute('title'))!
    // Her mail on two nodes, the first one first.
    for (const n of [first!, second!]) {
      await page.getByTestId(`subscribe-${n.url}`).click()
      await page.getByTestId('pay').click()
      await page.getByTestId('pay-done').waitFor({ timeout: 30_000 })
      await page.getByTestId('pay-close').click()
    }
    await page.goto(`${httpOf(origin!.url)}/app/#inbox`)
    await page.getByText(`Live on ${first!.url}`).waitFor({ timeout: 30_000 })

    const sender = createHansaClient({ secretKey: generateSecretKey(), discv5: { enabled: false } })
    await sender.join({ inviteCode: devnet.info.inviteCode })
    await sender.inbox.send({ recipient: me, message: 'before the fall' })
    await page.getByText('before the fall').waitFor({ timeout: 20_000 })

    const pid = pidOf(first!.dataDir)
    expect(pid).not.toBeNull()
    process.kill(pid!, 'SIGKILL')
    // The page says it moved, and how long after the loss.
    await page
      .getByTestId('inbox-status')
      .getByText(new RegExp(`Live on ${second!.url} \\(took over \\d+ ms after`))
      .waitFor({ timeout: 30_000 })
    const status = await page.getByTestId('inbox-status').textContent()
    console.log(`inbox failover in the browser: ${status}`)
    await sender.inbox.send({ recipient: me, message: 'after the fall' })
    await page.getByText('after the fall').waitFor({ timeout: 20_000 })
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(SHOTS, 'inbox-failover.png'), fullPage: true })
    sender.close()
  }, 180_000)
})
