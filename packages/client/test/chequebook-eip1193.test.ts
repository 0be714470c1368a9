// The user's chequebook paid for from an injected EIP-1193 wallet, on a real anvil: the
// wallet's wrong chain, too few tokens and a rejected request each stop it with what to do
// and nothing sent; then the wallet deploys a chequebook whose issuer is the user's own key,
// funds it, tops it up, and the client remembers it where the metered acts find it. A cheque
// her key signs on it cashes on chain. A NIP-07 signer is refused before the wallet is asked.
import {
  type ChequebookPlace,
  EvmWalletError,
  chequebookFor,
  createHansaClient,
  eip1193Chequebooks,
  memoryClientStore,
} from '@hansa/client'
import {
  type Anvil,
  Chequebook,
  type HansaDeployment,
  HansaTestToken,
  clientsFor,
  deployHansa,
  setEthBalance,
  startAnvil,
} from '@hansa/contracts'
import { ethereumAddress, generateSecretKey, nostrPublicKey, signCheque } from '@hansa/protocol'
import { type Address, type Hex, getAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`
let anvil: Anvil
let dep: HansaDeployment
let place: ChequebookPlace
const deployer = generateSecretKey()
const payerKey = generateSecretKey() // the wallet's account: tokens and gas
const poorKey = generateSecretKey() // gas, no tokens
const nodeKey = generateSecretKey() // the beneficiary that cashes

/** A wallet as an extension is one: the key here, JSON-RPC forwarded to anvil. */
type Wallet = { chainId: number; key: Uint8Array; sent: number; reject: boolean }
function provider(w: Wallet) {
  const rpc = async (method: string, params: unknown[]) => {
    const r = await fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    const body = (await r.json()) as { result?: unknown; error?: { message: string } }
    if (body.error) throw new Error(body.error.message)
    return body.result
  }
  return {
    async request({ method, params }: { method: string; params?: unknown }) {
      const account = privateKeyToAccount(hex(w.key))
      const args = (params ?? []) as unknown[]
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [account.address]
      if (method === 'eth_chainId') return `0x${w.chainId.toString(16)}`
      if (method === 'eth_sendTransaction') {
        if (w.reject) throw Object.assign(new Error('User rejected the request.'), { code: 4001 })
        w.sent++
        const tx = args[0] as { to: Address; data?: Hex; gas?: Hex }
        const { walletClient } = clientsFor(anvil.rpcUrl, anvil.chainId, hex(w.key))
        return walletClient!.sendTransaction({
          to: tx.to,
          ...(tx.data ? { data: tx.data } : {}),
          ...(tx.gas ? { gas: BigInt(tx.gas) } : {}),
        })
      }
      return rpc(method, args)
    },
  }
}

beforeAll(async () => {
  anvil = await startAnvil()
  for (const k of [deployer, payerKey, poorKey, nodeKey]) {
    await setEthBalance(anvil.rpcUrl, getAddress(ethereumAddress(k)), 10n ** 20n)
  }
  dep = await deployHansa({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    deployer: hex(deployer),
    devFund: getAddress(ethereumAddress(generateSecretKey())),
  })
  place = { chainId: anvil.chainId, token: dep.token, factory: dep.chequebookFactory }
  const { publicClient, walletClient } = clientsFor(anvil.rpcUrl, anvil.chainId, hex(payerKey))
  const hash = await walletClient!.writeContract({
    address: dep.token,
    abi: HansaTestToken.abi,
    functionName: 'mint',
    args: [getAddress(ethereumAddress(payerKey)), 1_000_000n],
  })
  await publicClient.waitForTransactionReceipt({ hash })
}, 60_000)

afterAll(async () => {
  await anvil?.stop()
})

/** A client whose node report carries hard-mode terms naming this chain's contracts. */
function clientWith(options: Parameters<typeof createHansaClient>[0]) {
  const client = createHansaClient({ discv5: { enabled: false }, ...options })
  const terms = {
    node: nostrPublicKey(nodeKey),
    services: {
      inbox: { access: 'metered', swap: 'hard', unit: 'HTT', prices: {} },
    },
    settlement: {
      rails: ['evm'],
      chainId: anvil.chainId,
      beneficiary: getAddress(ethereumAddress(nodeKey)),
      evm: { token: dep.token, router: dep.router, chequebookFactory: dep.chequebookFactory },
    },
  }
  client.runtime.reports.push({ url: 'ws://node-2', terms } as never)
  return client
}

describe('a chequebook from an injected wallet', () => {
  it('names a wrong chain, too few tokens and a rejection, sending nothing', async () => {
    const me = generateSecretKey()
    const w: Wallet = { chainId: 1, key: payerKey, sent: 0, reject: false }
    const books = eip1193Chequebooks(provider(w))
    const deploy = () => books.deploy({ place, issuer: ethereumAddress(me), amount: 5000n })
    await expect(deploy()).rejects.toMatchObject({
      code: 'HANSA_EVM_WRONG_CHAIN',
      shortMessage: `the wallet is on chain 1; this node is paid on chain ${anvil.chainId}`,
    })
    w.chainId = anvil.chainId
    const poor = eip1193Chequebooks(provider({ ...w, key: poorKey }))
    const refused = await poor
      .deploy({ place, issuer: ethereumAddress(me), amount: 5000n })
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(EvmWalletError)
    expect(refused).toMatchObject({ code: 'HANSA_EVM_FUNDS' })
    expect((refused as Error).message).toMatch(/not enough tokens: .* holds 0 .* needs 5000/)
    w.reject = true
    await expect(deploy()).rejects.toMatchObject({
      code: 'HANSA_EVM_REJECTED',
      shortMessage: 'you rejected the transaction in your wallet (deployChequebook)',
    })
    expect(w.sent).toBe(0)
  })

  it('deploys her chequebook (her key the issuer), funds it, remembers it, tops it up; her cheque cashes', async () => {
    const me = generateSecretKey()
    const store = memoryClientStore()
    const client = clientWith({ secretKey: me, store })
    const w: Wallet = { chainId: anvil.chainId, key: payerKey, sent: 0, reject: false }
    const wallet = eip1193Chequebooks(provider(w))
    const before = await client.chequebook.status({ node: 'ws://node-2', wallet })
    expect(before).toMatchObject({ chequebook: null, state: null, issuer: ethereumAddress(me) })
    await expect(client.chequebook.remembered({ node: 'ws://node-2' })).resolves.toEqual({
      chequebook: null,
      issuer: ethereumAddress(me),
      place,
    })
    expect(before.wallet.account).toBe(getAddress(ethereumAddress(payerKey)))
    const steps: string[] = []
    const deployed = await client.chequebook.deploy({
      node: 'ws://node-2',
      wallet,
      amount: 5000n,
      onProgress: (p) => steps.push(p.step),
    })
    expect(steps).toEqual(['checking', 'deploying', 'depositing', 'done'])
    expect(w.sent).toBe(2) // the factory's deploy, the token transfer
    expect(deployed.chequebook).not.toBeNull()
    expect(deployed.state).toMatchObject({
      issuer: getAddress(ethereumAddress(me)),
      balance: 5000n,
      totalPaidOut: 0n,
      bounced: false,
    })
    expect(deployed.state?.node?.available).toBe(5000n)
    expect(
      chequebookFor(store, {
        chainId: anvil.chainId,
        factory: dep.chequebookFactory,
        issuer: ethereumAddress(me),
      }),
    ).toBe(deployed.chequebook)
    await expect(client.chequebook.remembered({ node: 'ws://node-2' })).resolves.toMatchObject({
      chequebook: deployed.chequebook,
    })

    const topped = await client.chequebook.deposit({ node: 'ws://node-2', wallet, amount: 2500n })
    expect(topped.state?.balance).toBe(7500n)
    expect(w.sent).toBe(3)

    // A cheque her key signs on it is what the chain cashes: the wallet never signs one.
    const cheque = await signCheque(
      {
        chequebook: deployed.chequebook!,
        beneficiary: ethereumAddress(nodeKey),
        cumulativePayout: 1200n,
        chainId: anvil.chainId,
      },
      me,
    )
    const node = clientsFor(anvil.rpcUrl, anvil.chainId, hex(nodeKey))
    const hash = await node.walletClient!.writeContract({
      address: getAddress(deployed.chequebook!),
      abi: Chequebook.abi,
      functionName: 'cashChequeBeneficiary',
      args: [getAddress(ethereumAddress(nodeKey)), 1200n, cheque.signature as Hex],
    })
    expect((await node.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success')
    const after = await client.chequebook.status({ node: 'ws://node-2', wallet })
    expect(after.state).toMatchObject({ balance: 6300n, totalPaidOut: 1200n })
    expect(after.state?.node?.paidOut).toBe(1200n)
  })

  it('refuses a NIP-07 signer before asking the wallet (her cheques need the key itself)', async () => {
    const me = generateSecretKey()
    const signer = {
      pubkey: nostrPublicKey(me),
      kind: 'nip07' as const,
      signEvent: async () => {
        throw new Error('not asked')
      },
      encrypt: async () => '',
      decrypt: async () => '',
    }
    const client = clientWith({ signer })
    const w: Wallet = { chainId: anvil.chainId, key: payerKey, sent: 0, reject: false }
    await expect(
      client.chequebook.deploy({
        node: 'ws://node-2',
        wallet: eip1193Chequebooks(provider(w)),
        amount: 1n,
      }),
    ).rejects.toMatchObject({ code: 'HANSA_SIGNER_NEEDS_SECRET' })
    expect(w.sent).toBe(0)
  })
})
