// GET /billing/history: the coordinator's books over time, as the node sampled them (the web
// app's plots). Values are decimal strings — base units for amounts, counts otherwise;
// `balance:<peer>` series hold SWAP balances of the peers that mattered most at each sample.
import { type Static, Type } from '@sinclair/typebox'
import { open } from './common.js'

export const BillingHistoryPointSchema = open({
  at: Type.Integer({ description: 'unix seconds of the sample' }),
  values: Type.Record(Type.String(), Type.String(), {
    description:
      'received, income, devTax, devTaxDue, payments, subscriptionsActive, cheques, outOfBounds, connections, balance:<peer>',
  }),
})
export type BillingHistoryPoint = Static<typeof BillingHistoryPointSchema>

export const BillingHistorySchema = open({
  sampleSeconds: Type.Integer(),
  points: Type.Array(BillingHistoryPointSchema, { description: 'oldest first, at most 2000' }),
})
export type BillingHistory = Static<typeof BillingHistorySchema>
