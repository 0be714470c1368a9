// The contracts on a real anvil: the router's split (approve then pay, or one transaction with
// an ERC-2612 permit), a cheque Hansa signs cashed with the dev
// fund's share, a bounced cheque, hard deposits, and the registry's chain rules.
import {
  chequeDigest,
  ethereumAddress,
  generateSecretKey,
  nostrPublicKey,
  signCheque,
} from '@hansa/protocol'
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { type Address, type Hex, decodeEventLog, parseEventLogs } from 'viem'
import { privateKeyToAccount, signTypedData } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Anvil,
  Chequebook,
  ChequebookFactory,
  FederationRegistry,
  type HansaDeployment,
  HansaTestToken,
  PaymentRouter,
  type RegistryUpdate,
  bytes32,
  clientsFor,
  deployHansa,
  mineBlocks,
  registryUpdateTypedData,
  setEthBalance,
  startAnvil,
} from '../src/index.js'

const hexKey = (k: Uint8Array): Hex => `0x${bytesToHex(k)}`
let anvil: Anvil
let dep: HansaDeployment
const deployerKey = generateSecretKey()
const devFund = privateKeyToAccount(hexKey(generateSecretKey())).address

async function funded(): Promise<{ key: Uint8Array; hex: Hex; address: Address }> {
  const key = generateSecretKey()
  const address = ethereumAddress(key) as Address
  await setEthBalance(anvil.rpcUrl, address, 10n ** 20n)
  return { key, hex: hexKey(key), address }
}

async function send(
  hex: Hex,
  call: Parameters<NonNullable<ReturnType<typeof clientsFor>['walletClient']>['writeContract']>[0],
) {
  const { publicClient, walletClient } = clientsFor(anvil.rpcUrl, anvil.chainId, hex)
  const { request } = await publicClient.simulateContract({
    ...call,
    account: walletClient!.account,
  } as never)
  const hash = await walletClient!.writeContract(request as never)
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe('success')
  return receipt
}

const balanceOf = async (address: Address) => {
  const { publicClient } = clientsFor(anvil.rpcUrl, anvil.chainId)
  return publicClient.readContract({
    address: dep.token,
    abi: HansaTestToken.abi,
    functionName: 'balanceOf',
    args: [address],
  })
}

beforeAll(async () => {
  anvil = await startAnvil()
  await setEthBalance(anvil.rpcUrl, ethereumAddress(deployerKey) as Address, 10n ** 21n)
  dep = await deployHansa({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    deployer: hexKey(deployerKey),
    devFund,
  })
})

afterAll(async () => {
  await anvil?.stop()
})

describe('PaymentRouter', () => {
  it('splits a payment exactly between the payout address and the dev fund, and says so', async () => {
    const node = await funded()
    const payer = await funded()
    const payout = privateKeyToAccount(hexKey(generateSecretKey())).address
    await send(node.hex, {
      address: dep.router,
      abi: PaymentRouter.abi,
      functionName: 'setNodeTerms',
      args: [payout, 2000],
    } as never)
    await send(payer.hex, {
      address: dep.token,
      abi: HansaTestToken.abi,
      functionName: 'mint',
      args: [payer.address, 1_000_000n],
    } as never)
    await send(payer.hex, {
      address: dep.token,
      abi: HansaTestToken.abi,
      functionName: 'approve',
      args: [dep.router, 12_345n],
    } as never)
    const devBefore = await balanceOf(devFund)
    const pubkey = bytes32(nostrPublicKey(payer.key))
    const receipt = await send(payer.hex, {
      address: dep.router,
      abi: PaymentRouter.abi,
      functionName: 'pay',
      args: [
        node.address,
        `0x${'ab'.repeat(32)}`,
        `0x${'00'.repeat(27)}${Buffer.from('inbox').toString('hex')}`,
        3,
        [pubkey],
        12_345n,
      ],
    } as never)
    expect(await balanceOf(payout)).toBe(12_345n - 2469n)
    expect((await balanceOf(devFund)) - devBefore).toBe(2469n)
    expect(await balanceOf(payer.address)).toBe(1_000_000n - 12_345n)
    const [paid] = parseEventLogs({ abi: PaymentRouter.abi, logs: receipt.logs, eventName: 'Paid' })
    expect(paid?.args).toMatchObject({
      node: node.address,
      payer: payer.address,
      periods: 3,
      pubkeys: [pubkey],
      amount: 12_345n,
      devTax: 2469n,
    })
  })

  it('pays in one transaction with an ERC-2612 permit, and refuses a permit for less', async () => {
    const node = await funded()
    const payer = await funded()
    const payout = privateKeyToAccount(hexKey(generateSecretKey())).address
    await send(node.hex, {
      address: dep.router,
      abi: PaymentRouter.abi,
      functionName: 'setNodeTerms',
      args: [payout, 1000],
    } as never)
    await send(payer.hex, {
      address: dep.token,
      abi: HansaTestToken.abi,
      functionName: 'mint',
      args: [payer.address, 50_000n],
    } as never)
    const { publicClient } = clientsFor(anvil.rpcUrl, anvil.chainId)
    const permit = async (value: bigint) => {
      const [, name, version, chainId, verifyingContract] = await publicClient.readContract({
        address: dep.token,
        abi: HansaTestToken.abi,
        functionName: 'eip712Domain',
      })
      const nonce = await publicClient.readContract({
        address: dep.token,
        abi: HansaTestToken.abi,
        functionName: 'nonces',
        args: [payer.address],
      })
      const deadline = (await publicClient.getBlock()).timestamp + 600n
      const sig = await signTypedData({
        privateKey: payer.hex,
        domain: { name, version, chainId, verifyingContract },
        types: {
          Permit: [
            { name: 'owner', type: 'address' },
            { name: 'spender', type: 'address' },
            { name: 'value', type: 'uint256' },
            { name: 'nonce', type: 'uint256' },
            { name: 'deadline', type: 'uint256' },
          ],
        },
        primaryType: 'Permit',
        message: { owner: payer.address, spender: dep.router, value, nonce, deadline },
      })
      return {
        deadline,
        r: `0x${sig.slice(2, 66)}` as Hex,
        s: `0x${sig.slice(66, 130)}` as Hex,
        v: Number.parseInt(sig.slice(130, 132), 16),
      }
    }
    const args = (amount: bigint, p: Awaited<ReturnType<typeof permit>>) => [
      node.address,
      `0x${'cd'.repeat(32)}`,
      `0x${'00'.repeat(27)}${Buffer.from('inbox').toString('hex')}`,
      1,
      [bytes32(nostrPublicKey(payer.key))],
      amount,
      p,
    ]
    const nonceBefore = await publicClient.getTransactionCount({ address: payer.address })
    const devBefore = await balanceOf(devFund)
    const receipt = await send(payer.hex, {
      address: dep.router,
      abi: PaymentRouter.abi,
      functionName: 'payWithPermit',
      args: args(10_000n, await permit(10_000n)),
    } as never)
    expect(await publicClient.getTransactionCount({ address: payer.address })).toBe(nonceBefore + 1)
    expect(await balanceOf(payout)).toBe(9000n)
    expect((await balanceOf(devFund)) - devBefore).toBe(1000n)
    const [paid] = parseEventLogs({ abi: PaymentRouter.abi, logs: receipt.logs, eventName: 'Paid' })
    expect(paid?.args).toMatchObject({ payer: payer.address, amount: 10_000n, devTax: 1000n })
    // a permit for less than the amount gives no allowance: the payment reverts, nothing moves
    await expect(
      publicClient.simulateContract({
        account: payer.address,
        address: dep.router,
        abi: PaymentRouter.abi,
        functionName: 'payWithPermit',
        args: args(10_000n, await permit(9_999n)) as never,
      }),
      // the token's ERC20InsufficientAllowance (selector 0xfb8f41b2), not in the router's ABI
    ).rejects.toThrow(/0xfb8f41b2/)
  })

  it('refuses to pay a node that set no terms', async () => {
    const payer = await funded()
    const { publicClient } = clientsFor(anvil.rpcUrl, anvil.chainId)
    await expect(
      publicClient.simulateContract({
        account: payer.address,
        address: dep.router,
        abi: PaymentRouter.abi,
        functionName: 'pay',
        args: [
          devFund,
          `0x${'00'.repeat(32)}`,
          `0x${'00'.repeat(32)}`,
          1,
          [`0x${'11'.repeat(32)}`],
          1n,
        ],
      }),
    ).rejects.toThrow(/NodeNotConfigured/)
  })
})

describe('Chequebook', () => {
  async function setup(depositAmount: bigint, rateBps = 2000) {
    const node = await funded()
    const issuer = await funded()
    const payout = privateKeyToAccount(hexKey(generateSecretKey())).address
    await send(node.hex, {
      address: dep.router,
      abi: PaymentRouter.abi,
      functionName: 'setNodeTerms',
      args: [payout, rateBps],
    } as never)
    const receipt = await send(issuer.hex, {
      address: dep.chequebookFactory,
      abi: ChequebookFactory.abi,
      functionName: 'deployChequebook',
      args: [issuer.address, 3600n, `0x${'00'.repeat(32)}`],
    } as never)
    const [deployed] = parseEventLogs({ abi: ChequebookFactory.abi, logs: receipt.logs })
    const chequebook = deployed!.args.chequebook as Address
    await send(issuer.hex, {
      address: dep.token,
      abi: HansaTestToken.abi,
      functionName: 'mint',
      args: [chequebook, depositAmount],
    } as never)
    return { node, issuer, payout, chequebook }
  }

  const cash = (
    node: { hex: Hex },
    chequebook: Address,
    recipient: Address,
    cumulative: bigint,
    signature: Hex,
  ) =>
    send(node.hex, {
      address: chequebook,
      abi: Chequebook.abi,
      functionName: 'cashChequeBeneficiary',
      args: [recipient, cumulative, signature],
    } as never)

  it('verifies the EIP-712 cheque Hansa signs and pays coordinator and dev fund exactly', async () => {
    const { node, issuer, payout, chequebook } = await setup(100_000n)
    const cheque = {
      chequebook,
      beneficiary: node.address,
      cumulativePayout: 50_001n,
      chainId: anvil.chainId,
    }
    const { publicClient } = clientsFor(anvil.rpcUrl, anvil.chainId)
    const onChain = await publicClient.readContract({
      address: chequebook,
      abi: Chequebook.abi,
      functionName: 'chequeDigest',
      args: [node.address, 50_001n],
    })
    expect(onChain).toBe(chequeDigest(cheque))
    const signed = await signCheque(cheque, issuer.key)
    const devBefore = await balanceOf(devFund)
    const receipt = await cash(node, chequebook, payout, 50_001n, signed.signature as Hex)
    expect(await balanceOf(payout)).toBe(50_001n - 10_000n)
    expect((await balanceOf(devFund)) - devBefore).toBe(10_000n)
    const [ev] = parseEventLogs({
      abi: Chequebook.abi,
      logs: receipt.logs,
      eventName: 'ChequeCashed',
    })
    expect(ev?.args).toMatchObject({ paid: 50_001n, devTax: 10_000n, cumulativePayout: 50_001n })
    // the same cheque twice: nothing more to cash
    await expect(cash(node, chequebook, payout, 50_001n, signed.signature as Hex)).rejects.toThrow(
      /NothingToCash/,
    )
    // a cheque signed by someone else
    const forged = await signCheque({ ...cheque, cumulativePayout: 60_000n }, generateSecretKey())
    await expect(cash(node, chequebook, payout, 60_000n, forged.signature as Hex)).rejects.toThrow(
      /BadSignature/,
    )
  })

  it('pays what it can on a cheque the balance cannot cover, marks it bounced, pays the rest later', async () => {
    const { node, issuer, payout, chequebook } = await setup(30_000n, 0)
    const signed = await signCheque(
      { chequebook, beneficiary: node.address, cumulativePayout: 50_000n, chainId: anvil.chainId },
      issuer.key,
    )
    const receipt = await cash(node, chequebook, payout, 50_000n, signed.signature as Hex)
    const bounced = parseEventLogs({
      abi: Chequebook.abi,
      logs: receipt.logs,
      eventName: 'ChequeBounced',
    })
    expect(bounced[0]?.args).toMatchObject({ beneficiary: node.address, unpaid: 20_000n })
    expect(await balanceOf(payout)).toBe(30_000n)
    const { publicClient } = clientsFor(anvil.rpcUrl, anvil.chainId)
    const read = (functionName: 'bounced' | 'totalPaidOut') =>
      publicClient.readContract({ address: chequebook, abi: Chequebook.abi, functionName })
    expect(await read('bounced')).toBe(true)
    expect(await read('totalPaidOut')).toBe(30_000n)
    await send(issuer.hex, {
      address: dep.token,
      abi: HansaTestToken.abi,
      functionName: 'mint',
      args: [chequebook, 20_000n],
    } as never)
    await cash(node, chequebook, payout, 50_000n, signed.signature as Hex)
    expect(await balanceOf(payout)).toBe(50_000n)
  })

  it('keeps a hard deposit for its beneficiary: no withdrawal of it, lowered only after the timeout', async () => {
    const { node, issuer, chequebook } = await setup(10_000n)
    const call = (functionName: string, args: unknown[]) =>
      send(issuer.hex, { address: chequebook, abi: Chequebook.abi, functionName, args } as never)
    await call('increaseHardDeposit', [node.address, 8_000n])
    await expect(call('withdraw', [3_000n])).rejects.toThrow(/ExceedsLiquidBalance/)
    await call('withdraw', [2_000n])
    await call('prepareDecreaseHardDeposit', [node.address, 8_000n])
    await expect(call('decreaseHardDeposit', [node.address])).rejects.toThrow(/DecreaseNotReady/)
    const { publicClient } = clientsFor(anvil.rpcUrl, anvil.chainId)
    await publicClient.request({ method: 'evm_increaseTime' as never, params: [3601] as never })
    await mineBlocks(anvil.rpcUrl)
    await call('decreaseHardDeposit', [node.address])
    await call('withdraw', [8_000n])
    expect(await balanceOf(issuer.address)).toBe(10_000n)
  })
})

describe('FederationRegistry', () => {
  // keys of both parities, so the contract's lift of an x-only key is tested both ways
  function guardianKey(oddY: boolean): Uint8Array {
    for (let i = 0; i < 64; i++) {
      const k = generateSecretKey()
      const odd = secp256k1.getPublicKey(k, true)[0] === 3
      if (odd === oddY) return k
    }
    throw new Error('no key of that parity in 64 tries')
  }
  const guardians = [guardianKey(false), guardianKey(true), guardianKey(true), guardianKey(false)]
  const xonly = (k: Uint8Array) => bytes32(bytesToHex(schnorr.getPublicKey(k)))
  const fedId = bytes32('f0'.repeat(32))
  const h = (n: number) => bytes32(n.toString(16).padStart(64, '0'))

  const update = (
    version: number,
    keys: Uint8Array[],
    threshold: number,
    hash: Hex,
  ): RegistryUpdate => ({
    federationId: fedId,
    version: BigInt(version),
    manifestHash: hash,
    guardians: keys.map(xonly),
    threshold,
    nodes: [bytes32('aa'.repeat(32)), bytes32('bb'.repeat(32))],
    services: ['inbox', 'inbox,orderbook'],
  })
  const sign = (u: RegistryUpdate, keys: Uint8Array[]) =>
    Promise.all(
      keys.map((k) =>
        signTypedData({
          privateKey: hexKey(k),
          ...registryUpdateTypedData(u, anvil.chainId, dep.registry),
        }),
      ),
    )

  it('anchors genesis and refuses one signature short, a rollback and a rotation without the new guardians', async () => {
    const submitter = await funded()
    const anchor = async (u: RegistryUpdate, sigs: Hex[]) =>
      send(submitter.hex, {
        address: dep.registry,
        abi: FederationRegistry.abi,
        functionName: 'anchor',
        args: [u, sigs],
      } as never)
    const [g0, g1, g2, g3] = guardians as [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
    const v1 = update(1, [g0, g1, g2], 2, fedId)
    await expect(anchor(v1, await sign(v1, [g1]))).rejects.toThrow(/NotEnoughSignatures/)
    await expect(
      anchor(
        update(1, [g0, g1, g2], 2, h(5)),
        await sign(update(1, [g0, g1, g2], 2, h(5)), [g0, g1]),
      ),
    ).rejects.toThrow(/GenesisHashMismatch/)
    const receipt = await anchor(v1, await sign(v1, [g0, g1]))
    const [ev] = parseEventLogs({ abi: FederationRegistry.abi, logs: receipt.logs })
    expect(decodeEventLog({ abi: FederationRegistry.abi, ...ev! }).eventName).toBe('Anchored')

    const { publicClient } = clientsFor(anvil.rpcUrl, anvil.chainId)
    const [version, hash] = await publicClient.readContract({
      address: dep.registry,
      abi: FederationRegistry.abi,
      functionName: 'head',
      args: [fedId],
    })
    expect([version, hash]).toEqual([1n, fedId])
    const [member, services] = await publicClient.readContract({
      address: dep.registry,
      abi: FederationRegistry.abi,
      functionName: 'isMember',
      args: [fedId, bytes32('bb'.repeat(32))],
    })
    expect([member, services]).toEqual([true, 'inbox,orderbook'])

    // one signature short; a signature counted twice is still one
    const v2 = update(2, [g0, g1, g2], 2, h(2))
    const s2 = await sign(v2, [g2, g0])
    await expect(anchor(v2, [s2[0]!, s2[0]!])).rejects.toThrow(/NotEnoughSignatures/)
    // skipping a version, and a rollback
    const v3early = update(3, [g0, g1, g2], 2, h(3))
    await expect(anchor(v3early, await sign(v3early, [g0, g1]))).rejects.toThrow(/BadVersion/)
    await anchor(v2, s2)
    await expect(anchor(v1, await sign(v1, [g0, g1, g2]))).rejects.toThrow(/BadVersion/)

    // rotation to {g2, g3} with threshold 2: the old guardians alone are not enough, nor g3 alone
    const v3 = update(3, [g2, g3], 2, h(3))
    await expect(anchor(v3, await sign(v3, [g0, g1]))).rejects.toThrow(/NotEnoughSignatures/)
    await expect(anchor(v3, await sign(v3, [g0, g1, g3]))).rejects.toThrow(/NotEnoughSignatures/)
    await anchor(v3, await sign(v3, [g0, g1, g3, g2]))
    // the old guardians have no say any more
    const v4 = update(4, [g0, g1], 1, h(4))
    await expect(anchor(v4, await sign(v4, [g0, g1]))).rejects.toThrow(/NotEnoughSignatures/)
    const [head4] = await publicClient.readContract({
      address: dep.registry,
      abi: FederationRegistry.abi,
      functionName: 'head',
      args: [fedId],
    })
    expect(head4).toBe(3n)
  })
})
