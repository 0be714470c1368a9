// What a chequebook holds, read from the chain in one round of calls: its issuer, balances,
// payouts, whether it bounced, and — for one beneficiary (a node) — what that one cashed and
// can still draw. The CLI's wallet (an RPC URL) and the browser's (EIP-1193) both read it here.
import type { Address } from 'viem'

/** The one method of a viem public client this needs. */
type ContractReader = { readContract(args: never): Promise<unknown> }

export type ChequebookReading = {
  chequebook: Address
  issuer: Address
  balance: bigint
  /** Not promised to anyone by a hard deposit. */
  liquid: bigint
  totalPaidOut: bigint
  totalHardDeposit: bigint
  bounced: boolean
  forBeneficiary: { beneficiary: Address; paidOut: bigint; available: bigint } | null
}

export async function readChequebook(
  client: ContractReader,
  abi: readonly unknown[],
  chequebook: Address,
  beneficiary?: Address,
): Promise<ChequebookReading> {
  const read = <T>(functionName: string, args: unknown[] = []) =>
    client.readContract({ address: chequebook, abi, functionName, args } as never) as Promise<T>
  const [issuer, balance, liquid, totalPaidOut, totalHardDeposit, bounced, forBeneficiary] =
    await Promise.all([
      read<Address>('issuer'),
      read<bigint>('balance'),
      read<bigint>('liquidBalance'),
      read<bigint>('totalPaidOut'),
      read<bigint>('totalHardDeposit'),
      read<boolean>('bounced'),
      beneficiary
        ? Promise.all([
            read<bigint>('paidOut', [beneficiary]),
            read<bigint>('liquidBalanceFor', [beneficiary]),
          ]).then(([paidOut, available]) => ({ beneficiary, paidOut, available }))
        : null,
    ])
  return {
    chequebook,
    issuer,
    balance,
    liquid,
    totalPaidOut,
    totalHardDeposit,
    bounced,
    forBeneficiary,
  }
}
