// Paying a node metered in SWAP's hard mode from the browser, in a real browser against a real
// `hansa devnet` on its chain (anvil): node-2 meters its inbox and takes cheques only from an
// on-chain chequebook. A user with a key kept in the browser opens node-2's dialog: without a
// chequebook node-2 is refused with what to do; the wallet (an injected EIP-1193 page script
// whose key stays in the test process) on the wrong chain, without tokens, and a rejection in
// the wallet are each named with nothing sent; then the wallet deploys and funds her
// chequebook (her key its issuer), she tops it up, and mails herself on node-2 until the node
// has credited her cheques — and cashed them on chain. A NIP-07 user is told in the dialog why
// she cannot (her signer does not hand out the key that signs cheques), nothing sent.
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAccount, getBilling, getTerms } from '@hansa/client'
import { Chequebook, clientsFor } from '@hansa/contracts'
import { readKeyFile } from '@hansa/node'
import { bytesToHex, ethereumAddress, hexToBytes } from '@hansa/protocol'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type Address, type Hex, getAddress } from 'viem'
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
  nodes: { name: string; coordinator: string; url: string; dataDir: string }[]
  chain: { chainId: number; rpcUrl: string; users: { name: string; keyFile: string }[] }
}

type Books = {
  settlement: {
    cashOuts: {
      uncashed: string
      cashed: string
      chequebooks: Array<{ chequebook: string; cumulative: string; cashed: string }>
    }
  }
}

const _http = (ws: string) => ws.replace(/^ws/, 'http')
const hexKey = (k: Uint8Array): Hex => `0x${bytesToHex(k)}`

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await read()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

describe.skipIf(browserMissing)(
  'a hard-mode metered node paid from a chequebook the wallet deployed',
  () => {
    const root = mkdtempSync(join(tmpdir(), 'hansa-web-chequebook-'))
    let devnet: ChildProcess
    let info: DevnetInfo
    let browser: Browser
    let context: BrowserContext
    let signerContext: BrowserContext

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true })
      ;({ devnet, info } = await spawnDevnet<DevnetInfo>(['--data-dir', join(root, 'devnet')], {}))
      browser = await launchChromium()
    }, 180_000)

    afterAll(async () => {
      await context?.close().catch(() => {})
      await signerContext?.close().catch(() => {})
      await browser?.close().catch(() => {})
      await stopDevnet(devnet)
      rmSync(root, { recursive: true, force: true })
    }, 60_000)

    const node = (name: string) => info.nodes.find((n) => n.name === name)!

    async function shot(p: Page, name: string) {
      await p.evaluate(() => window.scrollTo(0, 0))
      await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
    }

    it('deploys, funds and tops up her chequebook from the wallet; node-2 credits her cheques and cashes them', async () => {
      context = await browser.newContext({ viewport: { width: 1000, height: 900 } })
      // First a wallet on another chain, then an account without tokens, then a rejection.
      const wallet: WalletState = { chainId: 1, key: hexKey(generateSecretKey()), sent: 0 }
      await injectWallet(context, info.chain.rpcUrl, wallet)
      const p = await context.newPage()
      p.on('pageerror', (e) => console.error('page error:', e.message))
      await p.goto(`${httpOf(node('node-1').url)}/app/#nodes?invite=${info.inviteCode}`)
      await p.getByTestId('create-key-user').click()
      await p.getByTestId('join').click()
      for (const n of info.nodes) await p.getByTestId(`node-${n.url}`).waitFor({ timeout: 30_000 })
      const secret = hexToBytes((await p.evaluate(() => localStorage.getItem('hansa.key.user')))!)
      const node2 = node('node-2').url

      await p.getByTestId(`subscribe-${node2}`).click()
      const panel = p.getByTestId('chequebook')
      await panel.waitFor()
      // The wallet is read first: on chain 1 the panel says so; her key is named as the issuer.
      await panel
        .getByRole('alert')
        .getByText(/the wallet is on chain 1; this node is paid on chain 31337/)
        .waitFor({ timeout: 30_000 })
      await panel.getByText(ethereumAddress(secret)).waitFor()
      // Without a chequebook node-2 is refused, with what to do in the browser.
      await p.getByTestId('pay').click()
      const refused = p.getByTestId('pay-dialog').getByRole('alert').last()
      await refused.getByText(/takes cheques only from a chequebook on chain 31337/).waitFor({
        timeout: 30_000,
      })
      await expect(refused.textContent()).resolves.toMatch(/deploy one from your Ethereum wallet/)

      const deploy = () => p.getByTestId('chequebook-deploy').click()
      const alert = () => panel.getByRole('alert')
      await deploy()
      await alert()
        .getByText(/the wallet is on chain 1/)
        .waitFor({ timeout: 30_000 })
      await expect(alert().textContent()).resolves.toMatch(/Switch your wallet/)
      wallet.chainId = info.chain.chainId
      await deploy()
      await alert()
        .getByText(/not enough tokens/)
        .waitFor({ timeout: 30_000 })
      await expect(alert().textContent()).resolves.toMatch(/Add tokens/)
      const alice = info.chain.users.find((u) => u.name === 'alice')!
      wallet.key = hexKey(readKeyFile(alice.keyFile).secretKey)
      wallet.reject = true
      await deploy()
      await alert()
        .getByText(/you rejected the transaction in your wallet \(deployChequebook\)/)
        .waitFor({ timeout: 30_000 })
      await expect(alert().textContent()).resolves.toMatch(/confirm in the wallet to go on/)
      expect(wallet.sent).toBe(0) // nothing was sent before each check passed

      wallet.reject = false
      await deploy()
      await p
        .getByTestId('chequebook-balance')
        .getByText('100000 uHTT')
        .waitFor({ timeout: 60_000 })
      expect(wallet.sent).toBe(2) // the factory's deployChequebook, the token transfer
      await expect(p.getByTestId('chequebook-progress').textContent()).resolves.toMatch(
        /✓ check.*✓ deploy.*✓ deposit.*✓ ready/,
      )
      const chequebook = (await p.getByTestId('chequebook-address').textContent())!
      // Remembered in the browser, as the CLI remembers it in its config.
      const stored = JSON.parse(
        (await p.evaluate(() => localStorage.getItem('hansa.client.user')))!,
      ) as { chequebooks: { chequebook: string; issuer: string }[] }
      expect(stored.chequebooks).toEqual([
        expect.objectContaining({ chequebook, issuer: getAddress(ethereumAddress(secret)) }),
      ])
      // The chain agrees: her key is its issuer.
      const { publicClient } = clientsFor(info.chain.rpcUrl, info.chain.chainId)
      const read = (functionName: string, args: unknown[] = []) =>
        publicClient.readContract({
          address: chequebook as Address,
          abi: Chequebook.abi,
          functionName,
          args,
        } as never) as Promise<unknown>
      await expect(read('issuer')).resolves.toBe(getAddress(ethereumAddress(secret)))

      await p.getByTestId('chequebook-amount').fill('50000')
      await p.getByTestId('chequebook-topup').click()
      await p
        .getByTestId('chequebook-balance')
        .getByText('150000 uHTT')
        .waitFor({ timeout: 60_000 })
      expect(wallet.sent).toBe(3)
      await shot(p, 'chequebook')

      // Now node-2 takes her: it holds her mail, paid by cheques from that chequebook.
      await p.getByTestId('pay').click()
      await p.getByTestId('pay-done').waitFor({ timeout: 30_000 })
      await p.getByTestId('pay-close').click()
      await p.goto(`${httpOf(node('node-1').url)}/app/#inbox`)
      await p.getByText(`Live on ${node2}`).waitFor({ timeout: 30_000 })
      const nodeKey = readKeyFile(join(node('node-2').dataDir, 'node.key')).secretKey
      const credited = async () => (await getBilling(node2, nodeKey)) as unknown as Books
      let sent = 0
      // Each message stored is charged to her; a cheque goes once the debt passes the payment
      // threshold (100 on the devnet): a few messages.
      for (; sent < 12; sent++) {
        const books = await credited()
        if (books.settlement.cashOuts.chequebooks.length > 0) break
        await p.getByTestId('mail-to').fill(getPublicKey(secret))
        await p.getByTestId('mail-body').fill(`paid by cheque ${sent}`)
        await p.getByTestId('mail-send').click()
        await p.getByTestId('mail-sent').getByText(node2).waitFor({ timeout: 30_000 })
        await p.getByText(`paid by cheque ${sent}`).waitFor({ timeout: 30_000 })
      }
      expect(sent).toBeGreaterThan(0)
      // The node credited cheques from her chequebook, signed by her key …
      const account = await getAccount(node2, secret)
      expect(account.chequebook?.address.toLowerCase()).toBe(chequebook.toLowerCase())
      const cumulative = BigInt(account.chequebook?.cumulativePayout ?? '0')
      expect(cumulative).toBeGreaterThan(0n)
      // … and cashed them on chain: the chequebook paid the node exactly that.
      const books = await until('node-2 cashing her cheques', credited, (b) =>
        b.settlement.cashOuts.chequebooks.some(
          (c) => c.chequebook === chequebook.toLowerCase() && BigInt(c.cashed) >= cumulative,
        ),
      )
      const mine = books.settlement.cashOuts.chequebooks.find(
        (c) => c.chequebook === chequebook.toLowerCase(),
      )!
      const { terms } = await getTerms(node2)
      const paidOut = (await read('paidOut', [getAddress(terms.settlement.beneficiary)])) as bigint
      expect(paidOut).toBe(BigInt(mine.cashed))
      expect(await read('totalPaidOut')).toBe(BigInt(mine.cashed))

      // The panel shows what the node cashed.
      await p.goto(`${httpOf(node('node-1').url)}/app/#nodes`)
      await p.getByTestId(`subscribe-${node2}`).click({ timeout: 30_000 })
      await p
        .getByTestId('chequebook-node')
        .getByText(new RegExp(`^cashed ${mine.cashed} uHTT`))
        .waitFor({ timeout: 30_000 })
    }, 300_000)

    it('a NIP-07 user is told why she cannot pay node-2 by cheque, before the wallet is asked', async () => {
      signerContext = await browser.newContext({ viewport: { width: 1000, height: 900 } })
      const calls = await injectSigner(signerContext, generateSecretKey())
      const alice = info.chain.users.find((u) => u.name === 'alice')!
      const wallet: WalletState = {
        chainId: info.chain.chainId,
        key: hexKey(readKeyFile(alice.keyFile).secretKey),
        sent: 0,
      }
      await injectWallet(signerContext, info.chain.rpcUrl, wallet)
      const p = await signerContext.newPage()
      await p.goto(`${httpOf(node('node-1').url)}/app/#nodes?invite=${info.inviteCode}`)
      await p.getByTestId('use-nip07-user').click()
      await p.getByTestId('signer-user').waitFor()
      await p.getByTestId('join').click()
      const node2 = node('node-2').url
      await p.getByTestId(`subscribe-${node2}`).click({ timeout: 30_000 })
      await expect(p.getByTestId('chequebook-nip07').textContent()).resolves.toMatch(
        /signed by your key, which your browser signer \(NIP-07\) does not hand out/,
      )
      await expect(p.getByTestId('chequebook-deploy').count()).resolves.toBe(0)
      // Use it: refused by the SDK before any cheque or transaction.
      await p.getByTestId('pay').click()
      await p
        .getByTestId('pay-dialog')
        .getByRole('alert')
        .getByText(/needs the key itself/)
        .waitFor({ timeout: 30_000 })
      expect(wallet.sent).toBe(0)
      expect(calls.getPublicKey).toBeGreaterThan(0)
    }, 120_000)
  },
)
