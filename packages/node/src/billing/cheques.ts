// The cheque desk: receives a client's cheque, runs every check (protocol's checkCheque, with
// what this node knows: its own address and chain, the chequebook's issuer from the rail, the
// last credited payout and the digests already credited), and records it. Cheques are
// cumulative per chequebook, whatever they pay for (a SWAP balance or a subscription), so the
// chequebook's last payout is the one authority: `commit` re-reads it inside the transaction
// that credits the rise, so two cheques verified at the same time cannot both count.
import {
  type ChequeSigner,
  ChequeError,
  type SignedCheque,
  checkCheque,
  chequeShapeError,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import type { BillingDb } from './db.js'
import { chequeRefused } from './errors.js'
import { type EvmErrorCode, evmRefusal } from './rails/evm-errors.js'
import type { SettleOutcome, SettlementRail } from './rails/rail.js'

export type ChequePurpose = 'swap' | 'subscription'

export type VerifiedCheque = {
  digest: string
  /** Lowercase chequebook address. */
  chequebook: string
  cheque: SignedCheque
  cumulative: bigint
  /** The rise over the payout credited before this cheque was verified. */
  rise: bigint
  signer: ChequeSigner
}

type ChequebookRow = { cumulative: string; last_digest: string }

type Verdict = Extract<Awaited<ReturnType<typeof checkCheque>>, { ok: true }>

/**
 * The first checks of a cheque, before anything is read from a store: its
 * shape, and its chequebook's issuer as the rail knows it. Throws BillingRequestError.
 */
export async function chequeIssuer(
  rail: SettlementRail,
  value: unknown,
): Promise<{ signed: SignedCheque; chequebook: string; issuer: string }> {
  const shape = chequeShapeError(value)
  if (shape !== null) throw chequeRefused(new ChequeError('HANSA_CHEQUE_MALFORMED', shape))
  const signed = value as SignedCheque
  const chequebook = signed.chequebook.toLowerCase()
  const issuer = await rail.chequeIssuer(chequebook)
  if ('refused' in issuer) {
    if (issuer.code) throw evmRefusal(issuer.code as EvmErrorCode, issuer.refused)
    throw chequeRefused(new ChequeError('HANSA_CHEQUE_SIGNER', issuer.refused))
  }
  return { signed, chequebook, issuer: issuer.issuer }
}

/**
 * checkCheque's verdict as the desk takes it: refused, or — once the rail has found the
 * chequebook covers it — the cheque to credit.
 */
export async function verifiedCheque(
  rail: SettlementRail,
  chequebook: string,
  verdict: Awaited<ReturnType<typeof checkCheque>>,
): Promise<VerifiedCheque> {
  if (!verdict.ok) throw chequeRefused(verdict.error)
  await rail.checkCover?.(chequebook, verdict.cheque.cumulativePayout)
  return claimOf(verdict, chequebook)
}

const claimOf = (verdict: Verdict, chequebook: string): VerifiedCheque => ({
  digest: verdict.digest,
  chequebook,
  cheque: verdict.signed,
  cumulative: verdict.cheque.cumulativePayout,
  rise: verdict.increment,
  signer: verdict.signer,
})

/** The values of a cheques row, in the column order both desks insert them (settled: pending). */
export const chequeValues = (
  cheque: VerifiedCheque,
  peer: string,
  rise: bigint,
  purpose: ChequePurpose,
  now: number,
): Array<string | number> => [
  cheque.digest,
  cheque.chequebook,
  peer,
  cheque.cumulative.toString(),
  rise.toString(),
  purpose,
  JSON.stringify(cheque.cheque),
  now,
]

/** A cheque whose digest is already credited. */
export const chequeReplayed = (cheque: VerifiedCheque) =>
  chequeRefused(
    new ChequeError(
      'HANSA_CHEQUE_REPLAY',
      `this cheque (cumulative payout ${cheque.cumulative}) was already credited`,
    ),
  )

/** A cheque whose payout does not exceed the `last` credited from its chequebook. */
export const chequeNotIncreasing = (cheque: VerifiedCheque, last: bigint) =>
  chequeRefused(
    new ChequeError(
      'HANSA_CHEQUE_NOT_INCREASING',
      `cumulative payout ${cheque.cumulative} does not exceed the ${last} already credited from chequebook ${cheque.chequebook.slice(0, 10)}…; cheques are cumulative`,
    ),
  )

/**
 * Cheques handed to the rail after their credit committed (ledger: kept; hard mode: cashed),
 * until the rail's outcome is recorded. A desk drains them before its database closes.
 */
export class Settlements {
  private readonly pending = new Set<Promise<unknown>>()

  constructor(
    private readonly rail: SettlementRail,
    private readonly log: Logger,
  ) {}

  /** Hands a credited cheque to the rail; `record` writes the outcome. */
  settle(cheque: VerifiedCheque, rise: bigint, record: (outcome: SettleOutcome) => unknown): void {
    const settling = this.rail
      .settle(cheque.cheque, rise)
      .then(record, (err) =>
        this.log.error({ err, digest: cheque.digest }, 'billing: settling a cheque failed'),
      )
    this.pending.add(settling)
    settling.finally(() => this.pending.delete(settling))
  }

  /** Waits for every cheque handed to the rail. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }
}

export class ChequeDesk {
  private readonly stmt
  private readonly settlements: Settlements

  constructor(
    private readonly db: BillingDb,
    private readonly rail: SettlementRail,
    private readonly options: { beneficiary: string; chainId: number; now: () => number },
    log: Logger,
  ) {
    this.settlements = new Settlements(rail, log)
    this.stmt = {
      chequebook: db.prepare(
        'SELECT cumulative, last_digest FROM chequebooks WHERE chequebook = ?',
      ),
      known: db.prepare('SELECT 1 FROM cheques WHERE digest = ?').pluck(),
      saveChequebook: db.prepare(
        `INSERT INTO chequebooks (chequebook, issuer, cumulative, last_digest, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (chequebook) DO UPDATE SET cumulative = excluded.cumulative,
           last_digest = excluded.last_digest, updated_at = excluded.updated_at`,
      ),
      insert: db.prepare(
        `INSERT INTO cheques (digest, chequebook, peer, cumulative, increment, purpose, cheque, received_at, settled)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
      ),
      settled: db.prepare('UPDATE cheques SET settled = ? WHERE digest = ?'),
      count: db.prepare('SELECT count(*) FROM cheques').pluck(),
    }
  }

  get beneficiary(): string {
    return this.options.beneficiary
  }

  get chainId(): number {
    return this.options.chainId
  }

  get railName(): string {
    return this.rail.name
  }

  /** The highest cumulative payout credited from `chequebook` (0n when none). */
  lastCumulative(chequebook: string): bigint {
    const row = this.stmt.chequebook.get(chequebook.toLowerCase()) as ChequebookRow | undefined
    return row ? BigInt(row.cumulative) : 0n
  }

  chequeCount(): number {
    return this.stmt.count.get() as number
  }

  /**
   * Checks a cheque sent by `peer` (the NIP-98-authenticated pubkey): it must be signed by
   * the chequebook's issuer with her own key. Throws BillingRequestError (HANSA_CHEQUE_*).
   */
  async verify(peer: string, value: unknown): Promise<VerifiedCheque> {
    const { chequebook, issuer } = await chequeIssuer(this.rail, value)
    const verdict = await checkCheque(value, {
      beneficiary: this.options.beneficiary,
      chainId: this.options.chainId,
      issuer,
      issuerPubkey: peer,
      lastCumulativePayout: this.lastCumulative(chequebook),
      isCredited: (digest) => this.stmt.known.get(digest) !== undefined,
    })
    return verifiedCheque(this.rail, chequebook, verdict)
  }

  /**
   * Records a verified cheque and calls `credit(rise)` in the same transaction, after checking
   * again that the chequebook has not moved meanwhile. Returns what `credit` returns; hands
   * the cheque to the rail afterwards (ledger: kept; hard mode: cashed).
   */
  commit<T>(
    peer: string,
    cheque: VerifiedCheque,
    purpose: ChequePurpose,
    credit: (rise: bigint) => T,
  ): T {
    const result = this.db.transaction(() => {
      if (this.stmt.known.get(cheque.digest) !== undefined) throw chequeReplayed(cheque)
      const last = this.lastCumulative(cheque.chequebook)
      if (cheque.cumulative <= last) throw chequeNotIncreasing(cheque, last)
      const rise = cheque.cumulative - last
      const now = this.options.now()
      this.stmt.insert.run(...chequeValues(cheque, peer, rise, purpose, now))
      this.stmt.saveChequebook.run(
        cheque.chequebook,
        cheque.signer.address,
        cheque.cumulative.toString(),
        cheque.digest,
        now,
      )
      return { rise, value: credit(rise) }
    })()
    this.settlements.settle(cheque, result.rise, (outcome) => {
      if (!this.db.open) return
      // A status flag, not money: written without an fsync (a crash leaves it 'pending',
      // which a cashing rail checks again on chain).
      this.db.pragma('synchronous = NORMAL')
      try {
        this.stmt.settled.run(outcome.status, cheque.digest)
      } finally {
        this.db.pragma('synchronous = FULL')
      }
    })
    return result.value
  }

  /** Waits for cheques handed to the rail (before the database closes). */
  drain(): Promise<void> {
    return this.settlements.drain()
  }
}
