// Shared by the browser tests: Debian's Chromium through playwright-core, headless, with the
// flags that keep it off the network (on a closed network its background services would
// otherwise hold connections open), and where the screenshots go.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import * as nip44 from 'nostr-tools/nip44'
import { type EventTemplate, finalizeEvent, getPublicKey } from 'nostr-tools/pure'
import { type Browser, type BrowserContext, chromium } from 'playwright-core'
import { type Hex, createWalletClient, defineChain, http as httpTransport } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

export const CHROMIUM = process.env.HANSA_CHROMIUM ?? '/usr/bin/chromium'
export const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url))
export const SHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
const BUILT = existsSync(fileURLToPath(new URL('../dist/index.html', import.meta.url)))

/** Skip where there is no browser or no built app — except on CI, where .ci/run installs Chromium. */
export const browserMissing = (!existsSync(CHROMIUM) && !process.env.CI) || !BUILT

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export const httpOf = (ws: string) => ws.replace(/^ws/, 'http')

/** The pid of the devnet's node process with this data folder (its command line names it). */
export function pidOf(dataDir: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const at = args.indexOf('--data-dir')
      if (args.includes('start') && at >= 0 && args[at + 1] === dataDir) return Number(entry)
    } catch {
      // gone meanwhile
    }
  }
  return null
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A `hansa node start` process on a free loopback port. */
export type NodeProcess = { url: string; child: ChildProcess }

export async function startNode(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<NodeProcess> {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    [CLI, 'node', 'start', '--data-dir', dataDir, '--port', String(port), '--host', '127.0.0.1'],
    {
      env: { ...process.env, HANSA_LOG_LEVEL: 'warn', HANSA_VERIFY_THREADS: '1', ...env },
      stdio: 'ignore',
    },
  )
  const url = `ws://127.0.0.1:${port}`
  const until = Date.now() + 30_000
  for (;;) {
    try {
      if ((await fetch(`${httpOf(url)}/health`)).ok) return { url, child }
    } catch {
      // not listening yet
    }
    if (Date.now() > until || child.exitCode !== null) throw new Error(`${url} did not start`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Stops a node started with startNode and waits for it to exit. */
export async function stopNode(node: NodeProcess): Promise<void> {
  if (node.child.exitCode !== null) return
  const exited = new Promise((r) => node.child.once('exit', r))
  node.child.kill('SIGTERM')
  await exited
}

/**
 * `hansa devnet --json` as its own process (so a test can kill one of its nodes or stop it
 * with Ctrl-C as a user does); resolves with the process and the JSON it prints once ready.
 */
export async function spawnDevnet<Info>(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ devnet: ChildProcess; info: Info }> {
  const devnet = spawn(process.execPath, [CLI, 'devnet', ...args, '--json'], {
    env: { ...process.env, HANSA_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  devnet.stderr!.on('data', (d) => {
    stderr += d
  })
  const info = await new Promise<Info>((resolve, reject) => {
    devnet.stdout!.on('data', (d) => {
      stdout += d
      try {
        resolve(JSON.parse(stdout))
      } catch {
        // not complete yet
      }
    })
    devnet.once('exit', (code) => reject(new Error(`devnet exited (${code}): ${stderr}`)))
  })
  return { devnet, info }
}

/** Stops a devnet started with spawnDevnet (Ctrl-C) and waits for it to exit. */
export async function stopDevnet(devnet: ChildProcess | undefined): Promise<void> {
  if (!devnet || devnet.exitCode !== null) return
  const exited = new Promise((r) => devnet.once('exit', r))
  devnet.kill('SIGINT')
  await exited
}

/** The wallet's state, changed by the test between tries: its chain and its account. */
export type WalletState = {
  chainId: number
  key: Hex
  sent: number
  /** The user presses Reject on every transaction while set. */
  reject?: boolean
}

/** An EIP-1193 wallet: window.ethereum in the page, forwarding to anvil, signing here. */
export async function injectWallet(context: BrowserContext, rpcUrl: string, state: WalletState) {
  const rpc = async (method: string, params: unknown[]) => {
    const r = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    const body = (await r.json()) as { result?: unknown; error?: { message: string } }
    if (body.error) throw new Error(body.error.message)
    return body.result
  }
  await context.exposeBinding('__eip1193', async (_source, method: string, params: unknown[]) => {
    const account = privateKeyToAccount(state.key)
    if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [account.address]
    if (method === 'eth_chainId') return `0x${state.chainId.toString(16)}`
    if (method === 'eth_sendTransaction') {
      // EIP-1193's "user rejected the request"; the page sees the wallet's error code
      if (state.reject) throw new Error('4001: User rejected the request.')
      state.sent++
      const tx = params[0] as { to: Hex; data?: Hex; value?: Hex; gas?: Hex }
      const chain = defineChain({
        id: state.chainId,
        name: 'devnet',
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: [rpcUrl] } },
      })
      const wallet = createWalletClient({ account, chain, transport: httpTransport(rpcUrl) })
      return wallet.sendTransaction({
        to: tx.to,
        ...(tx.data ? { data: tx.data } : {}),
        ...(tx.value ? { value: BigInt(tx.value) } : {}),
        ...(tx.gas ? { gas: BigInt(tx.gas) } : {}),
      })
    }
    return rpc(method, params)
  })
  await context.addInitScript(() => {
    const call = (window as unknown as { __eip1193: (...a: unknown[]) => Promise<unknown> })
      .__eip1193
    ;(window as unknown as { ethereum: unknown }).ethereum = {
      request: (args: { method: string; params?: unknown[] }) =>
        call(args.method, args.params ?? []).catch((e: Error) => {
          // as a wallet rejects: an error carrying EIP-1193's code 4001
          if (/4001: /.test(e.message))
            throw Object.assign(new Error('User rejected the request.'), { code: 4001 })
          throw e
        }),
    }
  })
}

/** What the signer was asked to do, as an extension would see it. */
export type SignerCalls = {
  getPublicKey: number
  signEvent: Record<number, number>
  encrypt: number
  decrypt: number
}

/** A NIP-07 extension: window.nostr in the page, the key in this process. */
export async function injectSigner(
  context: BrowserContext,
  secret: Uint8Array,
): Promise<SignerCalls> {
  const calls: SignerCalls = { getPublicKey: 0, signEvent: {}, encrypt: 0, decrypt: 0 }
  await context.exposeBinding('__nip07', (_source, method: string, a: unknown, b: unknown) => {
    switch (method) {
      case 'getPublicKey':
        calls.getPublicKey++
        return getPublicKey(secret)
      case 'signEvent': {
        const t = a as EventTemplate
        calls.signEvent[t.kind] = (calls.signEvent[t.kind] ?? 0) + 1
        return finalizeEvent(t, secret)
      }
      case 'encrypt':
        calls.encrypt++
        return nip44.encrypt(b as string, nip44.getConversationKey(secret, a as string))
      case 'decrypt':
        calls.decrypt++
        return nip44.decrypt(b as string, nip44.getConversationKey(secret, a as string))
    }
    throw new Error(`unknown method ${method}`)
  })
  await context.addInitScript(() => {
    const call = (window as unknown as { __nip07: (...a: unknown[]) => Promise<unknown> }).__nip07
    ;(window as unknown as { nostr: unknown }).nostr = {
      getPublicKey: () => call('getPublicKey'),
      signEvent: (t: unknown) => call('signEvent', t),
      nip44: {
        encrypt: (pubkey: string, text: string) => call('encrypt', pubkey, text),
        decrypt: (pubkey: string, text: string) => call('decrypt', pubkey, text),
      },
    }
  })
  return calls
}
