// What the node decides and logs about a SWAP account, whichever store keeps it: the refusal
// logged once per streak, the log line of a peer crossing out of bounds (or back), the cap on
// credit ahead, a reversed credit, and a stored row read back. swap-accounts.ts (SQLite, in
// memory) and pg-swap-accounts.ts (PostgreSQL, shared by processes) both call these, so the
// two cannot drift apart; where and when an account is written stays with each store.
import {
  type Admission,
  type Bounds,
  type SwapAccount,
  type SwapPolicy,
  credit,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import { BillingRequestError } from './errors.js'

/** A swap_accounts row as either database returns it (PostgreSQL's bigints come as strings). */
export type StoredAccountRow = {
  balance: string
  charged: string
  paid: string
  cumulative: string
  requests: number | string
  out_of_bounds: string
  updated_at: number | string
}

export type StoredAccount = {
  account: SwapAccount
  requests: number
  bounds: Bounds
  updatedAt: number
}

export const storedAccount = (r: StoredAccountRow): StoredAccount => ({
  account: {
    balance: BigInt(r.balance),
    charged: BigInt(r.charged),
    paid: BigInt(r.paid),
    cumulativePayout: BigInt(r.cumulative),
  },
  requests: Number(r.requests),
  bounds: r.out_of_bounds as Bounds,
  updatedAt: Number(r.updated_at),
})

/**
 * Logs a refused peer once per streak: `refusing` holds the peers refused since their streak
 * began; both stores end a streak when a cheque of the peer's is credited, so a peer that
 * pays but stays past the threshold is logged once more. `known`: the peer has an account.
 */
export function noteRefusal(
  refusing: Set<string>,
  peer: string,
  known: boolean,
  decision: Admission,
  log: Logger,
  unit: string,
): void {
  if (decision.serve || !known || refusing.has(peer)) return
  refusing.add(peer)
  log.warn(
    {
      peer,
      balance: decision.balance.toString(),
      unit,
      disconnectThreshold: decision.disconnectThreshold.toString(),
    },
    'swap: peer out of bounds: refusing its requests until it pays',
  )
}

/** Logs a peer's account crossing out of bounds, in either direction, or coming back. */
export function logBoundsChange(
  log: Logger,
  unit: string,
  policy: SwapPolicy,
  change: { peer: string; balance: bigint; was: Bounds | undefined; now: Bounds },
): void {
  const fields = {
    peer: change.peer,
    balance: change.balance.toString(),
    unit,
    disconnectThreshold: policy.disconnectThreshold.toString(),
    mode: policy.mode,
  }
  if (change.now === 'debt') {
    log.warn(
      fields,
      policy.mode === 'soft'
        ? 'swap: peer out of bounds (owes more than the disconnect threshold; soft mode: still served)'
        : 'swap: peer out of bounds (owes more than the disconnect threshold; refused until it pays)',
    )
  } else if (change.now === 'credit') {
    log.warn(fields, 'swap: peer out of bounds (paid more than the disconnect threshold ahead)')
  } else log.info({ ...fields, was: change.was }, 'swap: peer back within bounds')
}

/**
 * The account after crediting a cheque's rise of `amount` (its cheque's cumulative payout
 * `cumulativePayout`); refused (HANSA_CHEQUE_AHEAD) when it would put the peer more than
 * `cap` ahead.
 */
export function creditedAccount(
  before: SwapAccount,
  amount: bigint,
  cumulativePayout: bigint,
  cap: bigint | undefined,
  unit: string,
): SwapAccount {
  const account = { ...credit(before, amount), cumulativePayout }
  if (cap !== undefined && -account.balance > cap) {
    const owed = before.balance
    throw new BillingRequestError(
      400,
      'HANSA_CHEQUE_AHEAD',
      `this cheque would put you ${-account.balance} ${unit} ahead; this node takes at most ${cap} ${unit} ahead on the ledger rail (you owe ${owed}): sign a cumulative payout at most ${cumulativePayout - amount + owed + cap}`,
    )
  }
  return account
}

/**
 * The account after taking back `amount` of what was credited (a cheque that bounced on
 * chain: the peer owes it again), or giving it back when negative.
 */
export const reversedAccount = (account: SwapAccount, amount: bigint): SwapAccount => ({
  ...account,
  balance: account.balance + amount,
  paid: account.paid - amount,
})
