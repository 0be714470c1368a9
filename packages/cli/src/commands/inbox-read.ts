// `hansa inbox read [--live]`: the user's mail after AUTH, failing over between her inbox
// nodes. --live keeps a subscription open (one JSON line per message with --json) until Ctrl-C.
import {
  type InboxReadOptions,
  inboxReadCommand,
  inboxReadLines,
  inboxWatchCommand,
  messageLine,
  statusLine,
} from '../client/user.js'
import { lines, output } from '../print.js'

export default async function run(opts: InboxReadOptions & { live?: boolean; json?: boolean }) {
  if (!opts.live) {
    const result = await inboxReadCommand(opts)
    output(opts.json, result, (r) => lines(inboxReadLines(r)))
    return
  }
  const abort = new AbortController()
  const stop = () => abort.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await inboxWatchCommand(
    opts,
    {
      message: (m) =>
        process.stdout.write(opts.json ? `${JSON.stringify(m)}\n` : `${messageLine(m)}\n`),
      status: (s) =>
        opts.json
          ? process.stdout.write(`${JSON.stringify({ status: s })}\n`)
          : process.stderr.write(`${statusLine(s)}\n`),
    },
    abort.signal,
  )
}
