// The paid-access API's documents (docs/paid-access.md): terms, subscriptions and their quotes,
// cheque receipts, a user's account and the coordinator's books. The node's route schemas and
// the client's types both come from here.
import { type Static, Type } from '@sinclair/typebox'
import { Amount, Hex64, open } from './common.js'

export const SignedTermsDocumentSchema = open(
  {
    terms: open({
      hansa: Type.Integer(),
      node: Hex64,
      issuedAt: Type.Integer(),
      services: Type.Object({}, { additionalProperties: true }),
      settlement: Type.Object({}, { additionalProperties: true }),
      devTax: Type.Object({}, { additionalProperties: true }),
    }),
    sig: Type.String(),
  },
  'BIP-340 signature by terms.node of sha256(RFC 8785 canonical bytes of terms)',
)

export const SubscriptionSchema = open({
  id: Type.String(),
  service: Type.String(),
  owner: Hex64,
  pubkeys: Type.Array(Hex64),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  expires: Type.String({ description: 'expiresAt as ISO 8601' }),
  active: Type.Boolean(),
})
export type SubscriptionInfo = Static<typeof SubscriptionSchema>

export const SwapAccountSchema = open({
  peer: Hex64,
  balance: Type.String({ description: 'what the peer owes (negative: paid ahead), base units' }),
  charged: Amount,
  paid: Amount,
  cumulativePayout: Amount,
  requests: Type.Integer(),
  bounds: Type.Union([Type.Literal('within'), Type.Literal('debt'), Type.Literal('credit')]),
  paymentThreshold: Amount,
  disconnectThreshold: Amount,
  mode: Type.Union([Type.Literal('soft'), Type.Literal('mock'), Type.Literal('hard')]),
})
export type SwapAccountInfo = Static<typeof SwapAccountSchema>

export const PaymentSchema = open({
  id: Type.Integer(),
  at: Type.Integer(),
  peer: Type.String(),
  purpose: Type.Union([
    Type.Literal('swap'),
    Type.Literal('subscription'),
    Type.Literal('trade-fee'),
  ]),
  service: Type.Union([Type.String(), Type.Null()]),
  rail: Type.String(),
  reference: Type.String(),
  unit: Type.String(),
  amount: Amount,
  income: Amount,
  devTax: Amount,
  rateBps: Type.Integer(),
})
export type PaymentInfo = Static<typeof PaymentSchema>

export const QuoteSchema = open({
  quote: open({
    id: Type.String(),
    owner: Hex64,
    service: Type.String(),
    periods: Type.Integer(),
    amount: Amount,
    unit: Type.String(),
    pubkeys: Type.Array(Hex64),
    createdAt: Type.Integer(),
    expiresAt: Type.Integer(),
  }),
  pay: open({
    rail: Type.String(),
    chainId: Type.Integer(),
    // ledger rail: the cheque that pays it
    beneficiary: Type.Optional(Type.String()),
    chequebook: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    cumulativePayout: Type.Optional(Amount),
    lastCumulativePayout: Type.Optional(Amount),
    // evm rail: the PaymentRouter call that pays it (docs/settlement.md)
    token: Type.Optional(Type.String()),
    router: Type.Optional(Type.String()),
    confirmations: Type.Optional(Type.Integer()),
    call: Type.Optional(
      open({
        function: Type.String(),
        node: Type.String(),
        quote: Type.String(),
        service: Type.String(),
        periods: Type.Integer(),
        pubkeys: Type.Array(Type.String()),
        amount: Amount,
      }),
    ),
  }),
})
/** POST /subscriptions: the price of N periods of a service, and how to pay it. */
export type QuoteDocument = Static<typeof QuoteSchema>

export const SubscriptionReceiptSchema = open({
  subscription: SubscriptionSchema,
  payment: open({
    periods: Type.Integer(),
    amount: Amount,
    unit: Type.String(),
    devTax: Amount,
    expiresBefore: Type.Integer(),
    expiresAfter: Type.Integer(),
    /** ledger rail: the cheque's cumulative payout. */
    cumulativePayout: Type.Optional(Amount),
    /** evm rail: the payment's transaction, and the dev tax the router moved in it. */
    tx: Type.Optional(Type.String()),
    devTaxOnChain: Type.Optional(Amount),
  }),
})
export type SubscriptionReceipt = Static<typeof SubscriptionReceiptSchema>

export const SubscriptionListSchema = open({ subscriptions: Type.Array(SubscriptionSchema) })
export const SubscriptionDocumentSchema = open({ subscription: SubscriptionSchema })

export const ChequeReceiptSchema = open({
  credited: Amount,
  unit: Type.String(),
  devTax: Amount,
  cumulativePayout: Amount,
  account: SwapAccountSchema,
})
export type ChequeReceipt = Static<typeof ChequeReceiptSchema>

export const AccountSchema = open({
  pubkey: Hex64,
  unit: Type.String(),
  swap: Type.Union([SwapAccountSchema, Type.Null()]),
  chequebook: Type.Union([open({ address: Type.String(), cumulativePayout: Amount }), Type.Null()]),
  subscriptions: Type.Array(SubscriptionSchema),
  payments: Type.Array(PaymentSchema),
  devTax: open({ rateBps: Type.Integer(), rate: Type.String() }),
})
/** GET /account: a user's SWAP balance, chequebook, subscriptions and payments on a node. */
export type AccountInfo = Static<typeof AccountSchema>

function SettlementReportSchema() {
  return open({
    rail: Type.Literal('evm'),
    token: Type.String(),
    router: Type.String(),
    chequebookFactory: Type.Union([Type.String(), Type.Null()]),
    registry: Type.Union([Type.String(), Type.Null()]),
    confirmations: Type.Integer(),
    cashOuts: Type.Union([
      open({
        uncashed: Amount,
        cashed: Amount,
        cashedDevTax: Amount,
        bounced: Amount,
        chequebooks: Type.Array(
          open({
            chequebook: Type.String(),
            cumulative: Amount,
            cashed: Amount,
            bounced: Amount,
            status: Type.String(),
            tx: Type.Union([Type.String(), Type.Null()]),
            attempts: Type.Integer(),
            lastError: Type.Union([Type.String(), Type.Null()]),
          }),
        ),
        cashOuts: Type.Array(
          open({
            tx: Type.String(),
            chequebook: Type.String(),
            cumulative: Amount,
            paid: Amount,
            devTax: Amount,
            bounced: Amount,
            gasUsed: Type.String(),
            at: Type.Integer(),
          }),
        ),
      }),
      Type.Null(),
    ]),
  })
}

export const BillingReportSchema = open({
  node: Type.String(),
  unit: Type.String(),
  rail: Type.String(),
  services: Type.Record(Type.String(), Type.String()),
  devTax: open({
    rateBps: Type.Integer(),
    rate: Type.String(),
    recipient: Type.Union([Type.String(), Type.Null()]),
  }),
  totals: open({
    payments: Type.Integer(),
    received: Amount,
    income: Amount,
    devTax: Amount,
    devTaxPaid: Amount,
    devTaxDue: Type.String(),
    carry: Type.String(),
  }),
  swap: Type.Union([
    open({
      mode: Type.String(),
      paymentThreshold: Amount,
      disconnectThreshold: Amount,
      peers: Type.Array(SwapAccountSchema),
      outOfBounds: Type.Array(
        open({
          peer: Type.String(),
          direction: Type.Union([Type.Literal('debt'), Type.Literal('credit')]),
          balance: Type.String(),
        }),
      ),
    }),
    Type.Null(),
  ]),
  subscriptions: open({
    active: Type.Record(Type.String(), Type.Integer()),
    list: Type.Array(SubscriptionSchema),
  }),
  cheques: Type.Integer(),
  /** The evm rail: its contracts and (hard mode) what is uncashed, cashed and bounced. */
  settlement: Type.Optional(Type.Union([SettlementReportSchema(), Type.Null()])),
  recentPayments: Type.Array(PaymentSchema),
})
/** GET /billing: the coordinator's books. */
export type BillingReport = Static<typeof BillingReportSchema>

export const DevTaxPaymentReceiptSchema = open({
  devTax: Amount,
  devTaxPaid: Amount,
  devTaxDue: Amount,
  unit: Type.String(),
})
export type DevTaxPaymentReceipt = Static<typeof DevTaxPaymentReceiptSchema>
