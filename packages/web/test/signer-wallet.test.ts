// The web app with the keys held outside the page, in a real browser against a real `hansa
// devnet` on its local chain (anvil): a NIP-07 browser signer (window.nostr) and an EIP-1193
// Ethereum wallet (window.ethereum) are injected as page scripts whose keys stay in the test
// process, as an extension keeps them out of the page. A user who chose the signer pays
// node-3's subscription on chain from the wallet — after the wallet's wrong chain and a
// tokenless account are each named — and node-1's ledger subscription with a one-time key
// (a cheque is not a Nostr event), and both nodes then let her in: she mails herself there
// and reads it live. Every signature and every NIP-44 step went through the signer (counted),
// and no key is in the page's storage. A user with a key kept in the browser trades at both
// coordinators, each under a key of its own.
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHansaClient, pubkeyFor } from '@hansa/client'
import { bytesToHex, hexToBytes } from '@hansa/protocol'
import { readKeyFile } from '@hansa/node'
import { nsecEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  SHOTS,
  type WalletState,
  browserMissing,
  httpOf,
  injectSigner,
  injectWallet,
  launchChromium,
  spawnDevnet,
  stopDevnet,
} from './browser.js'

type DevnetInfo = {
  inviteCode: string
  nodes: { name: string; coordinator: string; url: string }[]
  coordinators: { alias: string; pubkey: string }[]
  chain: { chainId: number; rpcUrl: string; users: { name: string; keyFile: string }[] }
}

describe.skipIf(browserMissing)('keys outside the page: NIP-07 and an Ethereum wallet', () => {
  const root = mkdtempSync(join(tmpdir(), 'hansa-web-signer-'))
  let devnet: ChildProcess
  let info: DevnetInfo
  let browser: Browser
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    // The devnet on its chain: node-3 sells the inbox by subscription on the evm rail.
    // node-1 sells the inbox too, on the ledger rail (cheques kept on trust).
    ;({ devnet, info } = await spawnDevnet<DevnetInfo>(['--data-dir', join(root, 'devnet')], {
      HANSA_INBOX_ACCESS: 'subscription',
    }))
    browser = await launchChromium()
  }, 180_000)

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close().catch(() => {})
    await stopDevnet(devnet)
    rmSync(root, { recursive: true, force: true })
  }, 60_000)

  async function context(): Promise<BrowserContext> {
    const c = await browser.newContext({ viewport: { width: 1000, height: 900 } })
    contexts.push(c)
    return c
  }

  async function page(c: BrowserContext): Promise<Page> {
    const p = await c.newPage()
    p.on('pageerror', (e) => console.error('page error:', e.message))
    return p
  }

  const node = (name: string) => info.nodes.find((n) => n.name === name)!

  async function shot(p: Page, name: string) {
    await p.evaluate(() => window.scrollTo(0, 0))
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  }

  async function openApp(p: Page) {
    await p.goto(`${httpOf(node('node-1').url)}/app/#nodes?invite=${info.inviteCode}`)
  }

  async function waitForNodes(p: Page) {
    for (const n of info.nodes) await p.getByTestId(`node-${n.url}`).waitFor({ timeout: 30_000 })
  }

  it('a NIP-07 user pays on chain from her wallet and by a one-time key on the ledger, and is let in; every signature is the signer’s', async () => {
    const secret = generateSecretKey()
    const me = getPublicKey(secret)
    const c = await context()
    const calls = await injectSigner(c, secret)
    // First a wallet on the wrong chain, then an account without tokens, then a funded one.
    const wallet: WalletState = { chainId: 1, key: bytesToHexKey(generateSecretKey()), sent: 0 }
    await injectWallet(c, info.chain.rpcUrl, wallet)
    const p = await page(c)
    await openApp(p)
    await p.getByTestId('use-nip07-user').click()
    await p.getByTestId('signer-user').waitFor()
    await expect(p.getByTestId('pubkey-user').getAttribute('title')).resolves.toBe(me)
    await p.getByTestId('join').click()
    await waitForNodes(p)

    const node3 = node('node-3').url
    // The card's registry line is read through her wallet, which is on another chain for now.
    await expect(p.getByTestId(`registry-${node3}`).textContent()).resolves.toBe(
      'not read: the wallet is on chain 1; the registry is on chain 31337',
    )
    await p.getByTestId(`subscribe-${node3}`).click()
    await expect(p.getByTestId('rail-explain').textContent()).resolves.toMatch(/Ethereum wallet/)
    await p.getByTestId('pay').click()
    await p
      .getByRole('alert')
      .getByText(/the wallet is on chain 1; this node is paid on chain 31337/)
      .waitFor({ timeout: 30_000 })
    await expect(p.getByRole('alert').textContent()).resolves.toMatch(/Switch your wallet/)
    wallet.chainId = info.chain.chainId
    await p.getByTestId('pay').click()
    await p
      .getByRole('alert')
      .getByText(/not enough tokens/)
      .waitFor({ timeout: 30_000 })
    await expect(p.getByRole('alert').textContent()).resolves.toMatch(/Add tokens/)
    expect(wallet.sent).toBe(0) // nothing was sent before the checks passed
    await shot(p, 'subscribe-evm-funds')
    const alice = info.chain.users.find((u) => u.name === 'alice')!
    wallet.key = bytesToHexKey(readKeyFile(alice.keyFile).secretKey)
    await p.getByTestId('pay').click()
    await p.getByTestId('pay-done').waitFor({ timeout: 120_000 })
    expect(wallet.sent).toBe(2) // approve, then the router's pay
    await shot(p, 'subscribe-evm')
    await p.getByTestId('pay-close').click()

    // node-1 takes ledger cheques, which a signer cannot sign: the dialog says so, and a
    // one-time key in the page's memory pays for a subscription that covers her signer's key.
    const node1 = node('node-1').url
    await p.getByTestId(`subscribe-${node1}`).click()
    await expect(p.getByTestId('rail-explain').textContent()).resolves.toMatch(
      /cannot sign\. Paying makes a one-time key in this page’s memory for this payment only/,
    )
    await shot(p, 'subscribe-ledger-nip07')
    await p.getByTestId('pay').click()
    await p.getByTestId('pay-done').waitFor({ timeout: 30_000 })
    await p.getByTestId('pay-close').click()

    // The node lets her in: her inbox there, live, takes and serves her mail.
    await p.goto(`${httpOf(node('node-1').url)}/app/#inbox`)
    await p.getByText(`Live on ${node3}`).waitFor({ timeout: 30_000 })
    await p.getByTestId('mail-to').fill(me)
    await p.getByTestId('mail-body').fill('A note to myself, sealed by my signer.')
    await p.getByTestId('mail-send').click()
    await p.getByTestId('mail-sent').waitFor({ timeout: 30_000 })
    // Both nodes took it for her: each lets her key in.
    await expect(p.getByTestId('mail-sent').textContent()).resolves.toContain(node3)
    await expect(p.getByTestId('mail-sent').textContent()).resolves.toContain(node1)
    await p.getByText('A note to myself, sealed by my signer.').waitFor({ timeout: 30_000 })
    await shot(p, 'inbox-nip07')

    // An order, signed by the signer too (one key at every coordinator, and the card says so).
    await p.goto(`${httpOf(node('node-1').url)}/app/#orders`)
    await p.getByTestId('make-order').click()
    await p.getByTestId('order-notice').waitFor({ timeout: 30_000 })

    // Every act went through the signer: NIP-98 for the quote, the proof and the order; the
    // inbox relay list; AUTH at the node; the seal; her consent to be covered by the one-time
    // key; NIP-44 out once and in twice (wrap, seal).
    expect(calls.signEvent[27235] ?? 0).toBeGreaterThanOrEqual(3)
    expect(calls.signEvent[10050] ?? 0).toBeGreaterThanOrEqual(1)
    expect(calls.signEvent[22242] ?? 0).toBeGreaterThanOrEqual(1)
    expect(calls.signEvent[13]).toBe(1)
    expect(calls.signEvent[29243]).toBe(1) // her consent to the one-time key's subscription
    expect(calls.encrypt).toBe(1)
    expect(calls.decrypt).toBeGreaterThanOrEqual(2)
    // … and no key is in the page's storage: only the choice of the signer.
    const stored = await p.evaluate(() => ({
      local: Object.fromEntries(Object.entries(localStorage)),
      session: Object.fromEntries(Object.entries(sessionStorage)),
    }))
    const all = JSON.stringify(stored)
    expect(all).not.toContain(bytesToHex(secret))
    expect(all).not.toContain(nsecEncode(secret))
    expect(Object.keys(stored.local).filter((k) => k.startsWith('hansa.key.'))).toEqual([])
    expect(stored.local['hansa.signer.user']).toBe('nip07')

    // With her wallet on the devnet's chain the directory reads the on-chain registry: every
    // node listed, the anchored head the manifest's own.
    await p.goto(`${httpOf(node('node-1').url)}/app/#nodes`)
    await waitForNodes(p)
    for (const n of info.nodes) {
      await p
        .getByTestId(`registry-${n.url}`)
        .getByText(/^listed · registry anchored at version \d+ \(chain 31337\)$/)
        .waitFor({ timeout: 30_000 })
    }
  }, 300_000)

  it('a user with a key kept here trades at two coordinators under two different keys', async () => {
    const p = await page(await context())
    await openApp(p)
    await p.getByTestId('create-key-user').click()
    await p.getByTestId('join').click()
    await waitForNodes(p)
    const main = (await p.getByTestId('pubkey-user').getAttribute('title'))!
    await p.goto(`${httpOf(node('node-1').url)}/app/#orders`)
    for (const alias of ['hanseatic', 'lubeck']) {
      await p.getByTestId(`book-coordinator-${alias}`).waitFor({ timeout: 30_000 })
      await p.getByTestId('make-coordinator').selectOption(alias)
      await p.getByTestId('make-order').click()
      await p.getByTestId('order-notice').getByText(`${alias}’s book`).waitFor({ timeout: 30_000 })
    }
    await p.getByTestId('book-coordinator-lubeck').click()
    await expect(p.getByTestId('trading-key').textContent()).resolves.toMatch(/a key of its own/)
    await shot(p, 'orders-keys')
    // The book as anyone reads it: her order at each coordinator is made by the key derived
    // for that coordinator from hers — two keys, neither her own.
    const secret = await p.evaluate(() => localStorage.getItem('hansa.key.user'))
    const identity = { secretKey: hexToBytes(secret!), perCoordinator: true }
    const keyAt = (alias: string) =>
      pubkeyFor(identity, info.coordinators.find((c) => c.alias === alias)!.pubkey)
    const [h, l] = [keyAt('hanseatic'), keyAt('lubeck')]
    expect(h).not.toBe(l)
    expect([h, l]).not.toContain(main)
    const reader = createHansaClient({ discv5: { enabled: false } })
    await reader.join({ inviteCode: info.inviteCode })
    const book = await reader.orders.list()
    const makerOf = (o: (typeof book.orders)[number]) => o.event.tags.find((t) => t[0] === 'p')?.[1]
    const mine = book.orders.filter((o) => makerOf(o) === h || makerOf(o) === l)
    expect(mine.map((o) => [o.coordinator.alias, makerOf(o)]).sort()).toEqual([
      ['hanseatic', h],
      ['lubeck', l],
    ])
    // The page knows both as hers: each shows Cancel, not Take.
    for (const o of mine) await p.getByTestId(`cancel-${o.id}`).waitFor({ timeout: 20_000 })
    reader.close()
  }, 120_000)
})

const bytesToHexKey = (k: Uint8Array): Hex => `0x${bytesToHex(k)}`
