// `hansa orders take | cancel | confirm | complete <id>`: the action goes to the order's own coordinator.
import {
  type ActOptions,
  cancelJointOrder,
  completeJointOrder,
  confirmJointOrder,
  takeJointOrder,
} from '../orders/orders.js'
import { lines, output } from '../print.js'

type Action = 'take' | 'cancel' | 'confirm' | 'complete'

export default async function run(
  opts: ActOptions & { action: Action; json?: boolean },
): Promise<void> {
  const result =
    opts.action === 'take'
      ? await takeJointOrder(opts)
      : opts.action === 'cancel'
        ? await cancelJointOrder(opts)
        : opts.action === 'confirm'
          ? await confirmJointOrder(opts)
          : await completeJointOrder(opts)
  output(opts.json, result, (r) => {
    if (opts.action === 'take' && r.trade !== null) {
      return lines([
        `You took order ${r.id} on ${r.coordinator.alias}'s book: ${r.trade.fiat} ${r.order.currency} for ${r.trade.sats} sats, by ${r.order.paymentMethods.join(' or ')}.`,
        `The maker is ${r.maker}; you both have a message from the coordinator in its inbox. Coordinator fee: ${r.trade.takerFee} sats.`,
      ])
    }
    return lines([`Order ${r.id} on ${r.coordinator.alias}'s book is now ${r.status}.`])
  })
}
