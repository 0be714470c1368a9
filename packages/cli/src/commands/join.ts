// `hansa join INVITE`: fetch and verify the federation's manifest chain, keep its head.
import { type UserOptions, joinCommand, joinLines } from '../client/user.js'
import { lines, output } from '../print.js'

export default async function run(opts: UserOptions & { invite: string; json?: boolean }) {
  const result = await joinCommand(opts.invite, opts)
  output(opts.json, result, (r) => lines(joinLines(r)))
}
