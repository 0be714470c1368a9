// The books' history options (billing/history.ts): how often the node samples its books for
// the coordinator's plots, and how long the samples are kept.
import { option } from '../config/option.js'

export const historyOptions = option.section({
  sampleSeconds: option.integer(15, {
    description:
      "History: seconds between two samples of the books (received, income, dev tax, SWAP peers' balances) kept for the coordinator's plots.",
    min: 1,
  }),
  retentionDays: option.number(30, {
    description:
      'History: days of samples kept in history.sqlite; older ones are deleted as new ones come.',
    min: 1,
  }),
})
