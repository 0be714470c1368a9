// How the app pays, per settlement rail. A node's signed terms name the rails it takes
// (terms.settlement.rails); the app offers those it has a payer for. Adding a rail is one
// entry here: what to tell the user before paying, and how to pay (through @hansa/client).
import type { HansaClient, SubscribeResult } from '@hansa/client'

export type PayRail = {
  name: string
  label: string
  /** Shown before paying: what happens and what it costs outside the price. */
  explain: string
  pay(
    client: HansaClient,
    params: { node: string; service: string; periods: number },
  ): Promise<SubscribeResult>
}

export const PAY_RAILS: Record<string, PayRail> = {
  ledger: {
    name: 'ledger',
    label: 'Ledger cheque',
    explain:
      'Signs an EIP-712 cheque with your key for the quoted amount; the node credits it at once (the ledger rail keeps it on trust, nothing moves on chain).',
    pay: (client, p) => client.subscribe({ node: p.node, service: p.service, periods: p.periods }),
  },
}

/** The rails a node takes that this app can pay with, and those it cannot (named to the user). */
export function railsFor(rails: readonly string[]): { usable: PayRail[]; unsupported: string[] } {
  return {
    usable: rails.map((r) => PAY_RAILS[r]).filter((r): r is PayRail => r !== undefined),
    unsupported: rails.filter((r) => PAY_RAILS[r] === undefined),
  }
}
