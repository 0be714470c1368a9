// `hansa trust …`: the user's own trust list — coordinators enabled or disabled, her own nodes.
import { type TrustAction, type UserOptions, trustCommand, trustLines } from '../client/user.js'
import { lines, output } from '../print.js'

export default async function run(opts: UserOptions & TrustAction & { json?: boolean }) {
  const result = trustCommand(opts, opts)
  output(opts.json, result, (r) => lines(trustLines(r)))
}
