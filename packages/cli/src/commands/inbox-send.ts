// `hansa inbox send RECIPIENT MESSAGE…`: a NIP-17 gift wrap to the recipient's inbox nodes.
import { type InboxSendOptions, inboxSendCommand, inboxSendLines } from '../client/user.js'
import { lines, output } from '../print.js'

export default async function run(
  opts: InboxSendOptions & { recipient: string; message: string[]; json?: boolean },
) {
  const result = await inboxSendCommand(opts.recipient, opts.message.join(' '), opts)
  output(opts.json, result, (r) => lines(inboxSendLines(r)))
}
