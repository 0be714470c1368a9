// `hansa orders`: the joint order book of a federation, as a table (or --json for scripts).
import Table from 'cli-table3'
import { type ListOptions, bookHead, bookNotes, bookRows, listJointBook } from '../orders/orders.js'
import { lines, output } from '../print.js'

export default async function run(opts: ListOptions & { json?: boolean }): Promise<void> {
  const book = await listJointBook(opts)
  output(opts.json, book, (b) => {
    const table = new Table({
      head: bookHead(b),
      style: { head: [], border: [] },
    })
    for (const row of bookRows(b)) table.push(row)
    const live = b.coordinators.filter((c) => c.state === 'live').map((c) => c.alias)
    return lines([
      b.orders.length === 0
        ? 'No orders match.'
        : `${b.orders.length} order${b.orders.length === 1 ? '' : 's'} from ${live.join(', ') || 'no live coordinator'}${b.orders.some((o) => o.stale) ? ' and some as last seen' : ''}:`,
      ...(b.orders.length === 0 ? [] : [table.toString()]),
      ...bookNotes(b),
    ])
  })
}
