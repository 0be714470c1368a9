// The setup ceremony in the browser, Fedimint's way with every check first: two standalone
// nodes; two guardians, each in a browser context of their own, create a key and show a setup
// code; one drafts — a wrong guardian count is named before anything is posted — then checks
// again, compares the verification code, signs and posts; the other loads the draft on her
// node, sees the same verification code, signs, and the genesis is sealed: both nodes adopt it
// and the app gives the invite code.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeInviteCode } from '@hansa/protocol'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type NodeProcess as Node,
  SHOTS,
  browserMissing,
  httpOf,
  launchChromium,
  startNode,
} from './browser.js'

describe.skipIf(browserMissing)('the setup ceremony in the browser', () => {
  const root = mkdtempSync(join(tmpdir(), 'hansa-ceremony-'))
  const nodes: Node[] = []
  let browser: Browser

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    for (const name of ['a', 'b']) {
      nodes.push(
        await startNode(join(root, name), { HANSA_FEDERATION_SETUP_TOKEN: `hst_test_${name}` }),
      )
    }
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await Promise.all(
      nodes.map(async (n) => {
        if (n.child.exitCode !== null) return
        const exited = new Promise((r) => n.child.once('exit', r))
        n.child.kill('SIGTERM')
        await exited
      }),
    )
    rmSync(root, { recursive: true, force: true })
  }, 30_000)

  async function guardian(node: Node, name: string): Promise<{ page: Page; code: string }> {
    const page = await (
      await browser.newContext({ viewport: { width: 1000, height: 900 } })
    ).newPage()
    await page.goto(`${httpOf(node.url)}/app/#guardian`)
    await page.getByTestId('create-key-guardian').click()
    await page.getByTestId('guardian-load').click()
    await page.getByPlaceholder('your name (as in the manifest)').fill(name)
    await page.getByRole('button', { name: 'Show my setup code' }).click()
    const code = (await page.getByTestId('setup-code').textContent())!.trim()
    expect(code).toMatch(/^hansasetup1/)
    return { page, code }
  }

  it('checks the draft before anyone signs, and seals the genesis with two signatures', async () => {
    const [a, b] = nodes as [Node, Node]
    const ana = await guardian(a, 'ana')
    const bo = await guardian(b, 'bo')
    const coordinator = getPublicKey(generateSecretKey())

    const page = ana.page
    await page.getByTestId('ceremony-name').fill('Browser League')
    await page.getByLabel('Threshold').fill('2')
    await page.getByLabel('Guardians expected').fill('3')
    await page.getByTestId('ceremony-codes').fill(`${ana.code}\n${bo.code}`)
    await page.getByTestId('ceremony-coordinators').fill(`hanse=${coordinator}`)
    await page.getByTestId('ceremony-nodes').fill(`hanse=${a.url}\nhanse=${b.url}`)
    // Each standalone node founds a federation only with its coordinator's one-time token.
    await page.getByTestId('ceremony-tokens').fill(`${a.url}=hst_test_a\n${b.url}=hst_test_b`)
    await page.getByTestId('ceremony-check').click()
    // Every problem named before anything is posted.
    await page.getByText(/\[guardian-count\] expected 3 setup codes, got 2/).waitFor()
    await expect(page.getByTestId('ceremony-post').isDisabled()).resolves.toBe(true)
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(SHOTS, 'ceremony-problems.png'), fullPage: true })

    await page.getByLabel('Guardians expected').fill('2')
    await page.getByTestId('ceremony-check').click()
    const code = page.getByTestId('ceremony-result').locator('.verification')
    await code.waitFor()
    const verification = (await code.textContent())!
    await page.getByTestId('ceremony-post').click()
    await page.getByText(/Draft posted and signed by you/).waitFor({ timeout: 20_000 })

    await bo.page.getByTestId('guardian-load').click()
    await bo.page.getByTestId('proposal-1').waitFor({ timeout: 20_000 })
    await expect(bo.page.getByTestId('verification-code').textContent()).resolves.toBe(verification)
    await bo.page.getByTestId('sign-1').click()
    const sealed = bo.page.getByText(/version 1 is adopted\. Invite code: hansa1/)
    await sealed.waitFor({ timeout: 20_000 })
    await bo.page.evaluate(() => window.scrollTo(0, 0))
    await bo.page.screenshot({ path: join(SHOTS, 'ceremony-sealed.png'), fullPage: true })
    const invite = /hansa1[0-9a-z]+/.exec((await sealed.textContent())!)![0]
    const { federationId, urls } = decodeInviteCode(invite)
    expect(urls.sort()).toEqual([a.url, b.url].sort())
    for (const n of nodes) {
      const until = Date.now() + 20_000
      for (;;) {
        const f = (await (await fetch(`${httpOf(n.url)}/federation`)).json()) as {
          federationId: string | null
          status: string
        }
        if (f.federationId === federationId && f.status === 'member') break
        expect(Date.now()).toBeLessThan(until)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }, 90_000)
})
