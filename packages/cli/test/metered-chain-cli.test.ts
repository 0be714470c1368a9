// Metered use paid from the user's own chequebook, from the CLI, on a real chain (anvil): the
// devnet's node-2 meters its inbox in SWAP's hard mode. Bob takes node-2 as his inbox; without
// a chequebook he is told to deploy one (HANSA_CHEQUEBOOK_MISSING); he deploys one, which his
// client config remembers. Alice writes to him from the CLI: node-2 charges her for every
// message stored, and her client pays with cheques from her chequebook; the node credits them
// against the chain and cashes them. After the cash-outs the chain moved exactly what the books
// say: the cheques' total out of her chequebook, the dev tax to the dev fund, the rest to the
// node's payout address.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EvmWallet, createHansaClient, fileClientStore, getBilling, getTerms } from '@hansa/client'
import { type Devnet, startDevnet } from '@hansa/cli'
import { Chequebook, HansaTestToken } from '@hansa/contracts'
import { readKeyFile } from '@hansa/node'
import { nip19 } from 'nostr-tools'
import { generateSecretKey } from 'nostr-tools/pure'
import { type Address, getAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hansa, waitFor } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'hansa-metered-chain-'))
const aliceConfig = join(root, 'alice', 'client.json')
const bobConfig = join(root, 'bob', 'client.json')

const json = async (args: string[]) => {
  const run = await hansa([...args, '--json'])
  if (run.code !== 0) throw new Error(`hansa ${args.join(' ')} failed: ${run.stderr}`)
  return JSON.parse(run.stdout)
}

type Cashed = {
  settlement: {
    cashOuts: {
      uncashed: string
      cashed: string
      cashedDevTax: string
      bounced: string
      chequebooks: Array<{ chequebook: string; cumulative: string; cashed: string }>
    }
  }
}

describe('metered use paid from the user’s chequebook (hard mode, CLI)', () => {
  let devnet: Devnet
  let node2: string
  let node2Dir: string
  let rpcUrl: string
  let alice: { keyFile: string; address: string; pubkey: string }
  let bob: { keyFile: string; address: string; pubkey: string }

  beforeAll(async () => {
    devnet = await startDevnet({
      dataDir: join(root, 'devnet'),
      syncIntervalSeconds: 1,
      chain: true,
    })
    const node = devnet.info.nodes.find((n) => n.name === 'node-2')!
    node2 = node.url
    node2Dir = node.dataDir
    rpcUrl = devnet.info.chain!.rpcUrl
    ;[alice, bob] = devnet.info.chain!.users as [typeof alice, typeof bob]
    for (const config of [aliceConfig, bobConfig]) {
      const joined = await hansa(['join', devnet.info.inviteCode, '--config', config])
      expect(joined.code).toBe(0)
    }
  }, 120_000)

  afterAll(async () => {
    await devnet?.stop()
    rmSync(root, { recursive: true, force: true })
  }, 30_000)

  const as = (config: string, user: { keyFile: string }) => [
    '--config',
    config,
    '--key',
    user.keyFile,
  ]

  it('without a chequebook, a metered node in hard mode is refused with the fix', async () => {
    const { terms } = await getTerms(node2)
    expect(terms.services.inbox).toMatchObject({ access: 'metered', swap: 'hard' })
    const run = await hansa(['subscribe', '--node', node2, ...as(bobConfig, bob)])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('takes cheques only from a chequebook on chain 31337')
    expect(run.stderr).toContain(`run hansa chequebook deploy --node ${node2}`)
    // the SDK gives the same refusal its code
    const client = createHansaClient({
      store: fileClientStore(bobConfig),
      secretKey: readKeyFile(bob.keyFile).secretKey,
      discv5: { enabled: false },
    })
    await expect(client.subscribe({ node: node2 })).rejects.toMatchObject({
      code: 'HANSA_CHEQUEBOOK_MISSING',
    })
  })

  it('deployed, the chequebook is remembered in the config and pays the metered node', async () => {
    const deployed = await json([
      'chequebook',
      'deploy',
      '--node',
      node2,
      '--amount',
      '100000',
      '--rpc-url',
      rpcUrl,
      ...as(bobConfig, bob),
    ])
    expect(deployed.balance).toBe('100000')
    const saved = JSON.parse(readFileSync(bobConfig, 'utf8'))
    expect(saved.chequebooks).toEqual([
      expect.objectContaining({ chequebook: deployed.chequebook, issuer: getAddress(bob.address) }),
    ])
    // status finds it without --chequebook
    const status = await json([
      'chequebook',
      'status',
      '--node',
      node2,
      '--rpc-url',
      rpcUrl,
      ...as(bobConfig, bob),
    ])
    expect(status.chequebook).toBe(deployed.chequebook)
    const subscribed = await json(['subscribe', '--node', node2, ...as(bobConfig, bob)])
    expect(subscribed.subscriptions).toEqual([
      expect.objectContaining({ url: node2, access: 'metered' }),
    ])
  })

  it('Alice writes from the CLI: cheques from her chequebook, credited, cashed; the chain moved the right amounts', async () => {
    const bobNpub = nip19.npubEncode(bob.pubkey)
    const refused = await hansa([
      'inbox',
      'send',
      bobNpub,
      'no chequebook yet',
      ...as(aliceConfig, alice),
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('every node tried failed')
    expect(refused.stderr).toContain(`takes cheques only from a chequebook on chain 31337`)
    expect(refused.stderr).toContain('run hansa chequebook deploy')
    const { chequebook } = await json([
      'chequebook',
      'deploy',
      '--node',
      node2,
      '--amount',
      '50000',
      '--rpc-url',
      rpcUrl,
      ...as(aliceConfig, alice),
    ])
    for (let i = 0; i < 6; i++) {
      const sent = await json(['inbox', 'send', bobNpub, `message ${i}`, ...as(aliceConfig, alice)])
      expect(sent.delivered).toEqual([expect.objectContaining({ url: node2, ok: true })])
    }
    const { terms } = await getTerms(node2)
    const payer = JSON.parse(readFileSync(aliceConfig, 'utf8')).payers[terms.node] as {
      cumulativePayout: string
      chequebook: string
    }
    expect(payer.chequebook.toLowerCase()).toBe(chequebook.toLowerCase())
    const cumulative = BigInt(payer.cumulativePayout)
    expect(cumulative).toBeGreaterThan(0n)

    // Bob reads them, his queries metered and paid from his own chequebook's books
    const read = await json(['inbox', 'read', ...as(bobConfig, bob)])
    expect(read.messages.map((m: { content: string }) => m.content).sort()).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => `message ${i}`),
    )
    const bobPayer = JSON.parse(readFileSync(bobConfig, 'utf8')).payers[terms.node]
    expect(bobPayer.chequebook.toLowerCase()).not.toBe(bob.address.toLowerCase())
    expect(BigInt(bobPayer.charged)).toBeGreaterThan(0n)

    // the node credited every cheque and cashed them all
    const nodeKey = readKeyFile(join(node2Dir, 'node.key'))
    const books = (await waitFor(
      () => getBilling(node2, nodeKey.secretKey) as unknown as Promise<Cashed>,
      (b) => b.settlement.cashOuts.cashed === cumulative.toString(),
      30_000,
    )) as Cashed
    expect(books.settlement.cashOuts.uncashed).toBe('0')
    expect(books.settlement.cashOuts.bounced).toBe('0')
    expect(books.settlement.cashOuts.chequebooks).toEqual([
      expect.objectContaining({
        chequebook: chequebook.toLowerCase(),
        cumulative: cumulative.toString(),
      }),
    ])

    // and the chain agrees, to the unit
    const { publicClient } = await new EvmWallet({
      rpcUrl,
      chainId: terms.settlement.chainId,
      secretKey: generateSecretKey(),
    }).chainClients()
    const cashed = await publicClient.getContractEvents({
      address: chequebook as Address,
      abi: Chequebook.abi,
      eventName: 'ChequeCashed',
      fromBlock: 0n,
    })
    const paid = cashed.reduce((n, l) => n + (l.args.paid ?? 0n), 0n)
    const devTax = cashed.reduce((n, l) => n + (l.args.devTax ?? 0n), 0n)
    expect(paid).toBe(cumulative)
    expect(devTax.toString()).toBe(books.settlement.cashOuts.cashedDevTax)
    // 20 % of each cash-out, rounded down on chain
    expect(devTax).toBe(cashed.reduce((n, l) => n + ((l.args.paid ?? 0n) * 2000n) / 10_000n, 0n))
    const balanceOf = (address: string) =>
      publicClient.readContract({
        address: devnet.info.chain!.token as Address,
        abi: HansaTestToken.abi,
        functionName: 'balanceOf',
        args: [getAddress(address)],
      })
    expect(await balanceOf(chequebook)).toBe(50_000n - cumulative)
    expect(await balanceOf(devnet.info.chain!.devFund)).toBe(devTax)
    // the devnet's nodes are paid out to their own key's address
    expect(await balanceOf(nodeKey.address)).toBe(cumulative - devTax)
  }, 120_000)
})
