// settlement: what real money costs on the evm rail, on a local anvil started here. Prints
// ONE JSON line on stdout (progress on stderr):
//   gas       per subscription payment (the router's payWithPermit in one transaction when the
//             token takes ERC-2612 permits, as the test token does; else pay and the approve
//             before it),
//             per cheque cash-out (first and later ones of a chequebook, hard mode, with the
//             dev fund's transfer), per registry update (genesis and later versions, with
//             --guardians guardians and --nodes members)
//   access    seconds from the payment's first transaction to an active subscription, through
//             a real node (quote, permit and pay, proof; 1 confirmation; anvil mines at once)
//   cheques   cheques a hard-mode node verifies and credits per second (POST /cheques, each
//             checked against the chain: factory, issuer, bounced, cover), one payer at a time
//             and --payers payers at once
//
//   npm run -s bench:settlement                    (≈ 30 s)
//   npm run -s bench:settlement -- --payments 20 --cheques 400
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { EvmWallet, sendCheque, subscribeOnChain } from '@hansa/client'
import {
  Chequebook,
  FederationRegistry,
  PaymentRouter,
  bytes32,
  clientsFor,
  deployHansa,
  registryUpdateTypedData,
  setEthBalance,
  startAnvil,
} from '@hansa/contracts'
import { createKeyFile, resolveConfig, startNode } from '@hansa/node'
import { ethereumAddress, generateSecretKey, nostrPublicKey, signCheque } from '@hansa/protocol'
import pino from 'pino'
import { type Address, type Hex, decodeFunctionData, getAddress } from 'viem'
import { signTypedData } from 'viem/accounts'
import { benchArgs } from './bench-args.js'

const HELP = `settlement: gas, payment-to-access time and cheque verification on a local anvil.

  --payments N   subscriptions paid through a node, for the access time (default 10)
  --cashouts N   cheque cash-outs measured (default 10)
  --cheques N    cheques credited per payer in the verification phase (default 200)
  --payers N     payers at once in the parallel verification phase (default 4)
  --guardians N  guardians of the registry updates (default 3; threshold: a majority)
  --nodes N      member nodes in the registry updates (default 10)
  --out FILE     also append the JSON line to FILE
  -h, --help     this text
`
const values = benchArgs(
  import.meta.url,
  {
    payments: { type: 'string', default: '10' },
    cashouts: { type: 'string', default: '10' },
    cheques: { type: 'string', default: '200' },
    payers: { type: 'string', default: '4' },
    guardians: { type: 'string', default: '3' },
    nodes: { type: 'string', default: '10' },
    out: { type: 'string' },
  },
  HELP,
)
const log = (line: string) => process.stderr.write(`settlement: ${line}\n`)
const hex = (k: Uint8Array): Hex => `0x${Buffer.from(k).toString('hex')}`
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const round = (x: number, digits = 3) => Number(x.toFixed(digits))

const anvil = await startAnvil()
const dirs: string[] = []
try {
  const deployer = generateSecretKey()
  await setEthBalance(anvil.rpcUrl, getAddress(ethereumAddress(deployer)), 10n ** 21n)
  const dep = await deployHansa({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    deployer: hex(deployer),
    devFund: getAddress(ethereumAddress(generateSecretKey())),
  })
  const { publicClient } = clientsFor(anvil.rpcUrl, anvil.chainId)
  const gasOf = async (hash: Hex) =>
    Number((await publicClient.getTransactionReceipt({ hash })).gasUsed)
  const funded = async (tokens = 10n ** 15n) => {
    const sk = generateSecretKey()
    await setEthBalance(anvil.rpcUrl, getAddress(ethereumAddress(sk)), 10n ** 20n)
    const wallet = new EvmWallet({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, secretKey: sk })
    if (tokens > 0n) await wallet.faucet(dep.token, tokens)
    return { sk, wallet }
  }
  const nodeWith = async (flags: Record<string, unknown>) => {
    const dir = mkdtempSync(join(tmpdir(), 'hansa-settlement-'))
    dirs.push(dir)
    mkdirSync(dir, { recursive: true })
    const key = createKeyFile(join(dir, 'node.key'))
    await setEthBalance(anvil.rpcUrl, getAddress(key.address), 10n ** 20n)
    const config = resolveConfig({
      flags: {
        dataDir: dir,
        port: 0,
        'verify.threads': 1,
        'storage.readerThreads': 1,
        'billing.rail': 'evm',
        'billing.unit': 'uHTT',
        'billing.chainId': anvil.chainId,
        'billing.evm.rpcUrl': anvil.rpcUrl,
        'billing.evm.token': dep.token,
        'billing.evm.router': dep.router,
        'billing.evm.chequebookFactory': dep.chequebookFactory,
        'billing.evm.registry': dep.registry,
        ...flags,
      },
    })
    return { node: await startNode(config, { log: pino({ level: 'silent' }) }), key }
  }

  // 1. Subscriptions through a node: gas of approve and pay, seconds from payment to access.
  log('subscriptions paid by transaction…')
  const sub = await nodeWith({ 'inbox.access': 'subscription', 'billing.subscription.price': 1000 })
  const payGas: number[] = []
  const approveGas: number[] = []
  const toAccess: number[] = []
  const via = new Set<string>()
  for (let i = 0; i < Number(values.payments); i++) {
    const { sk } = await funded()
    const t0 = performance.now()
    const paid = await subscribeOnChain(sub.node.url, { service: 'inbox', periods: 1 }, sk, {
      rpcUrl: anvil.rpcUrl,
    })
    toAccess.push((performance.now() - t0) / 1000)
    const receipt = await publicClient.getTransactionReceipt({ hash: paid.tx as Hex })
    payGas.push(Number(receipt.gasUsed))
    const { functionName } = decodeFunctionData({
      abi: PaymentRouter.abi,
      data: (await publicClient.getTransaction({ hash: paid.tx as Hex })).input,
    })
    via.add(functionName)
    if (functionName === 'payWithPermit') continue
    const block = await publicClient.getBlock({
      blockNumber: receipt.blockNumber - 1n,
      includeTransactions: true,
    })
    const approve = block.transactions.find(
      (t) => typeof t !== 'string' && t.from.toLowerCase() === receipt.from.toLowerCase(),
    )
    if (approve && typeof approve !== 'string') approveGas.push(await gasOf(approve.hash))
  }
  await sub.node.close()

  // 2. Cash-outs: one chequebook, rising cheques cashed by the beneficiary (dev tax 20 %).
  log('cheque cash-outs…')
  const beneficiary = await funded(0n)
  {
    const { walletClient } = clientsFor(anvil.rpcUrl, anvil.chainId, hex(beneficiary.sk))
    const h = await walletClient!.writeContract({
      address: dep.router,
      abi: PaymentRouter.abi,
      functionName: 'setNodeTerms',
      args: [beneficiary.wallet.address, 2000],
    })
    await publicClient.waitForTransactionReceipt({ hash: h })
  }
  const issuer = await funded()
  const book = await issuer.wallet.deployChequebook(dep.chequebookFactory)
  await issuer.wallet.deposit(book, dep.token, 10n ** 12n)
  const cashGas: number[] = []
  for (let i = 1; i <= Number(values.cashouts); i++) {
    const cheque = await signCheque(
      {
        chequebook: book,
        beneficiary: beneficiary.wallet.address,
        cumulativePayout: BigInt(i) * 1000n,
        chainId: anvil.chainId,
      },
      issuer.sk,
    )
    const { walletClient } = clientsFor(anvil.rpcUrl, anvil.chainId, hex(beneficiary.sk))
    const hash = await walletClient!.writeContract({
      address: book,
      abi: Chequebook.abi,
      functionName: 'cashChequeBeneficiary',
      args: [beneficiary.wallet.address, BigInt(i) * 1000n, cheque.signature as Hex],
    })
    await publicClient.waitForTransactionReceipt({ hash })
    cashGas.push(await gasOf(hash))
  }

  // 3. Registry updates: genesis, then versions 2..4 (the last one rotating a guardian).
  log('registry updates…')
  const g = Array.from({ length: Number(values.guardians) }, () => generateSecretKey())
  const threshold = Math.floor(g.length / 2) + 1
  const members = Array.from({ length: Number(values.nodes) }, () =>
    bytes32(nostrPublicKey(generateSecretKey())),
  )
  const fed = bytes32(Buffer.from(generateSecretKey()).toString('hex'))
  const registryGas: { version: number; gas: number; signatures: number }[] = []
  let guardians = g
  for (let v = 1; v <= 4; v++) {
    const next = v === 4 ? [...g.slice(1), generateSecretKey()] : guardians
    const update = {
      federationId: fed,
      version: BigInt(v),
      manifestHash: v === 1 ? fed : bytes32(Buffer.from(generateSecretKey()).toString('hex')),
      guardians: next.map((k) => bytes32(nostrPublicKey(k))),
      threshold,
      nodes: members,
      services: members.map(() => 'inbox,orderbook'),
    }
    const signers = [...new Set([...guardians.slice(0, threshold), ...next.slice(-threshold)])]
    const typed = registryUpdateTypedData(update, anvil.chainId, dep.registry as Address)
    const signatures = await Promise.all(
      signers.map((k) => signTypedData({ privateKey: hex(k), ...typed })),
    )
    const { walletClient } = clientsFor(anvil.rpcUrl, anvil.chainId, hex(deployer))
    const hash = await walletClient!.writeContract({
      address: dep.registry as Address,
      abi: FederationRegistry.abi,
      functionName: 'anchor',
      args: [update, signatures],
    })
    await publicClient.waitForTransactionReceipt({ hash })
    registryGas.push({ version: v, gas: await gasOf(hash), signatures: signatures.length })
    guardians = next
  }

  // 4. Cheques verified and credited by a hard-mode node (cash-outs priced out of the way).
  log('cheque verification on a hard-mode node…')
  const hard = await nodeWith({
    'inbox.access': 'metered',
    'billing.metered.swap': 'hard',
    'billing.metered.paymentThreshold': 100000,
    'billing.evm.unitsPerEth': '1000000000000000000000',
  })
  const payers = await Promise.all(
    Array.from({ length: Number(values.payers) }, async () => {
      const p = await funded()
      const chequebook = await p.wallet.deployChequebook(dep.chequebookFactory)
      await p.wallet.deposit(chequebook, dep.token, 10n ** 12n)
      return { ...p, chequebook, cumulative: 0n }
    }),
  )
  const run = async (p: (typeof payers)[number], n: number) => {
    for (let i = 0; i < n; i++) {
      p.cumulative += 10n
      const cheque = await signCheque(
        {
          chequebook: p.chequebook,
          beneficiary: hard.key.address,
          cumulativePayout: p.cumulative,
          chainId: anvil.chainId,
        },
        p.sk,
      )
      await sendCheque(hard.node.url, cheque, p.sk)
    }
  }
  const n = Number(values.cheques)
  let t0 = performance.now()
  await run(payers[0]!, n)
  const single = n / ((performance.now() - t0) / 1000)
  t0 = performance.now()
  await Promise.all(payers.map((p) => run(p, n)))
  const parallel = (n * payers.length) / ((performance.now() - t0) / 1000)
  await hard.node.close()

  const result = {
    bench: 'settlement',
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? '?',
      loadavg: loadavg().map((x) => round(x, 2)),
      node: process.version,
    },
    options: Object.fromEntries(
      Object.entries(values).filter(([k]) => k !== 'out' && k !== 'help'),
    ),
    gas: {
      subscriptionPay: {
        via: [...via].join(','),
        median: median(payGas),
        min: Math.min(...payGas),
        max: Math.max(...payGas),
      },
      subscriptionApprove: approveGas.length ? { median: median(approveGas) } : null,
      chequeCashOut: { first: cashGas[0], laterMedian: median(cashGas.slice(1)) },
      registryUpdate: registryGas,
    },
    access: {
      payments: toAccess.length,
      secondsMedian: round(median(toAccess)),
      secondsMax: round(Math.max(...toAccess)),
    },
    cheques: {
      perPayer: n,
      creditedPerSecondOnePayer: round(single, 1),
      creditedPerSecondParallel: round(parallel, 1),
      payers: payers.length,
    },
  }
  const line = JSON.stringify(result)
  process.stdout.write(`${line}\n`)
  if (values.out) appendFileSync(values.out, `${line}\n`)
} finally {
  await anvil.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
