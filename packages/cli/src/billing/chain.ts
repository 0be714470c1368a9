// The on-chain commands as functions that return data: `hansa wallet` (the key's address,
// ether and token balances, a devnet faucet) and `hansa chequebook deploy|deposit|withdraw|
// status`. The chain, token and factory come from the node's verified terms (--node); the
// chain's JSON-RPC URL from --rpc-url or HANSA_RPC_URL. A deployed chequebook is remembered in
// the user's client config, where the metered commands (inbox send and read, subscribe) find
// it to pay nodes in hard mode; deposit, withdraw and status default to it.
import {
  type ClientStore,
  EvmWallet,
  chequebookFor,
  getTerms,
  rememberChequebook,
} from '@hansa/client'
import { HansaError, type Terms } from '@hansa/protocol'
import { formatEther } from 'viem'
import { rpcUrlOf } from './billing.js'

export type ChainOptions = { node: string; rpcUrl?: string; secretKey: Uint8Array }

async function evmTerms(node: string): Promise<Terms & { settlement: { evm: object } }> {
  const { terms } = await getTerms(node)
  if (!terms.settlement.evm) {
    throw new HansaError(
      'HANSA_USAGE',
      `${node} is not paid on chain (its rail is ${terms.settlement.rails.join(', ')}); name a node on the evm rail with --node`,
    )
  }
  return terms as Terms & { settlement: { evm: object } }
}

async function walletFor(o: ChainOptions) {
  const terms = await evmTerms(o.node)
  const wallet = new EvmWallet({
    rpcUrl: rpcUrlOf(o.rpcUrl),
    chainId: terms.settlement.chainId,
    secretKey: o.secretKey,
  })
  return { terms, wallet, evm: terms.settlement.evm! }
}

const amountOf = (text: string | undefined, what: string): bigint => {
  if (text === undefined || !/^[0-9]+$/.test(text)) {
    throw new HansaError('HANSA_USAGE', `${what} must be a whole number of base units`)
  }
  return BigInt(text)
}

/** `hansa wallet [--faucet N]`. */
export async function walletStatus(o: ChainOptions & { faucet?: string }) {
  const { wallet, evm, terms } = await walletFor(o)
  const minted = o.faucet ? await wallet.faucet(evm.token, amountOf(o.faucet, '--faucet')) : null
  const [eth, tokens] = await Promise.all([wallet.ethBalance(), wallet.tokenBalance(evm.token)])
  const result = {
    address: wallet.address,
    chainId: terms.settlement.chainId,
    ether: formatEther(eth),
    token: evm.token,
    tokenBalance: tokens.toString(),
    faucetTx: minted,
  }
  const lines = [
    `Wallet ${wallet.address} on chain ${result.chainId} (the same key as your Nostr identity)`,
    `  ether: ${result.ether} (gas money)`,
    `  token ${evm.token}: ${result.tokenBalance} base units`,
    ...(minted ? [`  faucet: minted ${o.faucet} (tx ${minted})`] : []),
  ]
  return { ...result, lines }
}

/** `hansa chequebook deploy|deposit|withdraw|status`. */
export async function chequebook(
  action: string,
  o: ChainOptions & {
    chequebook?: string
    amount?: string
    hardDeposit?: string
    /** The user's client config: a deployed chequebook is remembered there. */
    store?: ClientStore
  },
) {
  const { wallet, evm, terms } = await walletFor(o)
  const where = {
    chainId: terms.settlement.chainId,
    factory: evm.chequebookFactory ?? '',
    issuer: wallet.address,
  }
  const need = () => {
    const remembered = o.store && where.factory ? chequebookFor(o.store, where) : null
    if (o.chequebook) return o.chequebook
    if (remembered) return remembered
    throw new HansaError(
      'HANSA_USAGE',
      '--chequebook <address> is needed (this config remembers none for your key: hansa chequebook deploy)',
    )
  }
  let tx: string | null = null
  let address: string
  switch (action) {
    case 'deploy': {
      if (!evm.chequebookFactory) {
        throw new HansaError(
          'HANSA_USAGE',
          `${o.node} takes no cheques on chain (no metered service in hard mode)`,
        )
      }
      address = await wallet.deployChequebook(evm.chequebookFactory)
      if (o.store) {
        rememberChequebook(o.store, {
          ...where,
          factory: evm.chequebookFactory,
          chequebook: address,
          deployedAt: Math.floor(Date.now() / 1000),
        })
      }
      if (o.amount) tx = await wallet.deposit(address, evm.token, amountOf(o.amount, '--amount'))
      break
    }
    case 'deposit':
      address = need()
      tx = await wallet.deposit(address, evm.token, amountOf(o.amount, '--amount'))
      if (o.hardDeposit) {
        tx = await wallet.increaseHardDeposit(
          address,
          terms.settlement.beneficiary,
          amountOf(o.hardDeposit, '--hard-deposit'),
        )
      }
      break
    case 'withdraw':
      address = need()
      tx = await wallet.withdraw(address, amountOf(o.amount, '--amount'))
      break
    case 'status':
      address = need()
      break
    default:
      throw new HansaError('HANSA_USAGE', 'chequebook actions: deploy, deposit, withdraw, status')
  }
  const s = await wallet.chequebookStatus(address, terms.settlement.beneficiary)
  const data = {
    chequebook: s.chequebook,
    issuer: s.issuer,
    balance: s.balance.toString(),
    liquid: s.liquid.toString(),
    totalPaidOut: s.totalPaidOut.toString(),
    totalHardDeposit: s.totalHardDeposit.toString(),
    bounced: s.bounced,
    node: s.forBeneficiary
      ? {
          address: s.forBeneficiary.beneficiary,
          paidOut: s.forBeneficiary.paidOut.toString(),
          available: s.forBeneficiary.available.toString(),
        }
      : null,
    tx,
  }
  const lines = [
    `Chequebook ${data.chequebook} (issuer ${data.issuer})${data.bounced ? ' — BOUNCED a cheque: nodes refuse it' : ''}`,
    `  balance ${data.balance}, not promised ${data.liquid}, hard deposits ${data.totalHardDeposit}, paid out ${data.totalPaidOut}`,
    ...(data.node
      ? [
          `  to node ${data.node.address}: paid out ${data.node.paidOut}, cheques can draw ${data.node.available}`,
        ]
      : []),
    ...(tx ? [`  tx ${tx}`] : []),
    ...(action === 'deploy'
      ? [
          o.store
            ? '  remembered in your client config: hansa inbox send/read and subscribe pay metered nodes in hard mode from it'
            : `  pay metered use with it: SwapPayer.connect({ …, chequebook: '${data.chequebook}' })`,
        ]
      : []),
  ]
  return { ...data, lines }
}
