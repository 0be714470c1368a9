// `hansa subscribe`: pay for a service on the best node (or --node), failing over; for the
// inbox, publish the user's inbox relay list.
import { type SubscribeOptions, subscribeCommand, subscribeLines } from '../client/user.js'
import { lines, output } from '../print.js'

export default async function run(opts: SubscribeOptions & { json?: boolean }) {
  const result = await subscribeCommand(opts)
  output(opts.json, result, (r) => lines(subscribeLines(r)))
}
