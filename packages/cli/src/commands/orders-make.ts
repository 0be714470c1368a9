// `hansa orders make`: submit an order to a coordinator, which publishes it signed by its node.
import { type MakeOptions, makeJointOrder } from '../orders/orders.js'
import { lines, output } from '../print.js'

export default async function run(opts: MakeOptions & { json?: boolean }): Promise<void> {
  const made = await makeJointOrder(opts)
  output(opts.json, made, (m) =>
    lines([
      `Order ${m.id} is on ${m.coordinator.alias}'s book: ${m.order.side} ${m.order.fiatAmount.join('–')} ${m.order.currency}${m.order.amount > 0 ? ` for ${m.order.amount} sats` : ` at market ${m.order.premium >= 0 ? '+' : ''}${m.order.premium} %`}, by ${m.order.paymentMethods.join(' or ')}; pending until ${new Date(m.order.expiresAt * 1000).toISOString()}.`,
      `You are its maker as ${m.maker}.`,
    ]),
  )
}
