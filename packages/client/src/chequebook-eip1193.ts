// The user's on-chain chequebook (SWAP hard mode), deployed and funded from an injected
// EIP-1193 wallet (a browser extension's `window.ethereum`), through viem's `custom()`.
//
// Who signs the cheques: the chequebook's issuer. The wallet deploys the chequebook through
// the factory the node's terms name with the issuer set to the Ethereum address of the user's
// Nostr key (ChequebookFactory.deployChequebook takes the issuer as an argument), and funds it
// with a token transfer. Her key then signs each cheque as before, without a wallet prompt per
// cheque, and the node's binding of a cheque to the key that authenticated the request (the
// cheque's signer must be that key: `issuerPubkey` in checkCheque) holds unchanged. The wallet
// pays the gas and the tokens; it never signs a cheque.
//
// Before sending anything each act checks what the user can fix — the wallet's chain, its
// tokens, gas money — and says what to do (EvmWalletError); a request she rejects in the
// wallet is HANSA_EVM_REJECTED, naming what was already done.
import type { Address, Hex } from 'viem'
import { readChequebook } from './chequebook-read.js'
import { type Eip1193Provider, type WalletSession, walletSession } from './wallet-session.js'

/** Where a node's chequebook lives: its chain, token and factory (from the node's terms). */
export type ChequebookPlace = { chainId: number; token: string; factory: string }

export type ChequebookStep = 'checking' | 'deploying' | 'depositing' | 'done'
export type ChequebookProgress = { step: ChequebookStep; message: string; tx?: Hex }

/** A chequebook as the chain has it, for one beneficiary (the node). Amounts in base units. */
export type ChequebookState = {
  chequebook: Address
  issuer: Address
  balance: bigint
  /** Not promised to anyone by a hard deposit. */
  liquid: bigint
  totalPaidOut: bigint
  totalHardDeposit: bigint
  bounced: boolean
  /** What the node has cashed, and what its cheques can still draw. */
  node: { beneficiary: Address; paidOut: bigint; available: bigint } | null
}

export type ChequebookWallet = {
  /** The wallet's account (asks the wallet once). */
  account(): Promise<Address>
  /** The wallet account's balance of `token`. */
  tokenBalance(place: ChequebookPlace): Promise<bigint>
  /**
   * Deploys a chequebook whose issuer is `issuer` (the user key's address), then deposits
   * `amount` (none when 0). `onDeployed` is called as soon as the chequebook exists, before
   * the deposit, so a caller remembers it even if the deposit is rejected.
   */
  deploy(params: {
    place: ChequebookPlace
    issuer: string
    amount: bigint
    hardDepositTimeout?: bigint
    onProgress?: (p: ChequebookProgress) => void
    onDeployed?: (chequebook: Address, tx: Hex) => void
  }): Promise<{ chequebook: Address; deployTx: Hex; depositTx: Hex | null }>
  /** Tops the chequebook up with `amount` from the wallet: one token transfer. */
  deposit(params: {
    place: ChequebookPlace
    chequebook: string
    amount: bigint
    onProgress?: (p: ChequebookProgress) => void
  }): Promise<Hex>
  /** Reads the chequebook through the wallet (no transaction). */
  status(params: {
    place: ChequebookPlace
    chequebook: string
    beneficiary?: string
  }): Promise<ChequebookState>
}

/** A chequebook wallet over an injected provider; a missing one fails with what to do. */
export function eip1193Chequebooks(
  provider: Eip1193Provider | null | undefined,
  options: { receiptTimeoutMs?: number } = {},
): ChequebookWallet {
  const session = () => walletSession(provider)
  const depositWith = async (
    w: WalletSession,
    chainId: number,
    token: Address,
    chequebook: Address,
    amount: bigint,
    onProgress: ((p: ChequebookProgress) => void) | undefined,
  ): Promise<Hex> => {
    onProgress?.({
      step: 'depositing',
      message: `Depositing ${amount} into chequebook ${chequebook}: confirm the transfer in your wallet…`,
    })
    const receipt = await w.send(
      {
        address: token,
        abi: w.v.HansaTestToken.abi,
        functionName: 'transfer',
        args: [chequebook, amount],
      },
      chainId,
      options.receiptTimeoutMs,
    )
    return receipt.transactionHash
  }
  return {
    async account() {
      return (await session()).account
    },
    async tokenBalance(place) {
      const w = await session()
      await w.checkChain(place.chainId, 'read the balance')
      return w.tokenBalance(w.v.getAddress(place.token))
    },
    async deploy({ place, issuer, amount, hardDepositTimeout, onProgress, onDeployed }) {
      onProgress?.({ step: 'checking', message: 'Checking your wallet’s chain and funds…' })
      const w = await session()
      const chainId = await w.checkChain(place.chainId, 'deploy the chequebook')
      const token = w.v.getAddress(place.token)
      // Checked before the first transaction: a deploy without the deposit it was for helps no one.
      await w.checkFunds(token, amount, 'funding the chequebook')
      onProgress?.({
        step: 'deploying',
        message: 'Deploying your chequebook through the node’s factory: confirm in your wallet…',
      })
      const salt = `0x${Date.now().toString(16).padStart(64, '0')}` as Hex
      const receipt = await w.send(
        {
          address: w.v.getAddress(place.factory),
          abi: w.v.ChequebookFactory.abi,
          functionName: 'deployChequebook',
          args: [w.v.getAddress(issuer), hardDepositTimeout ?? 86_400n, salt],
        },
        chainId,
        options.receiptTimeoutMs,
      )
      const [event] = w.v.parseEventLogs({
        abi: w.v.ChequebookFactory.abi,
        eventName: 'ChequebookDeployed',
        logs: receipt.logs,
      })
      if (!event)
        throw new Error(`the factory deployed no chequebook (tx ${receipt.transactionHash})`)
      const chequebook = w.v.getAddress(event.args.chequebook)
      onDeployed?.(chequebook, receipt.transactionHash)
      const depositTx =
        amount > 0n ? await depositWith(w, chainId, token, chequebook, amount, onProgress) : null
      onProgress?.({
        step: 'done',
        message: `Chequebook ${chequebook} deployed${depositTx ? ` and funded with ${amount}` : ''}.`,
        ...(depositTx ? { tx: depositTx } : { tx: receipt.transactionHash }),
      })
      return { chequebook, deployTx: receipt.transactionHash, depositTx }
    },
    async deposit({ place, chequebook, amount, onProgress }) {
      if (amount <= 0n) throw new Error('deposit a positive amount (base units)')
      onProgress?.({ step: 'checking', message: 'Checking your wallet’s chain and funds…' })
      const w = await session()
      const chainId = await w.checkChain(place.chainId, 'top up')
      const token = w.v.getAddress(place.token)
      await w.checkFunds(token, amount, 'the deposit')
      const tx = await depositWith(
        w,
        chainId,
        token,
        w.v.getAddress(chequebook),
        amount,
        onProgress,
      )
      onProgress?.({ step: 'done', message: `Deposited ${amount}.`, tx })
      return tx
    },
    async status({ place, chequebook, beneficiary }) {
      const w = await session()
      await w.checkChain(place.chainId, 'read the chequebook')
      const { forBeneficiary, ...reading } = await readChequebook(
        w.pub,
        w.v.Chequebook.abi,
        w.v.getAddress(chequebook),
        beneficiary ? w.v.getAddress(beneficiary) : undefined,
      )
      return { ...reading, node: forBeneficiary }
    },
  }
}
