// `hansa federation verify --federation ID FILE`: checks a chain file offline. Exit 0 and the
// verified head's version, or exit 1 naming the rule the chain breaks.
import { HansaError } from '@hansa/protocol'
import { verifyChainFile } from '../federation/governance.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  file: string
  federation: string
  json?: boolean
}): Promise<void> {
  try {
    const result = verifyChainFile(opts.federation, opts.file, Math.floor(Date.now() / 1000))
    output(opts.json, result, (r) =>
      lines([
        `verified head version ${r.version}: "${r.name}", ${r.versions} manifest(s), head hash ${r.hash}`,
      ]),
    )
  } catch (error) {
    if (!(error instanceof HansaError)) throw error
    process.exitCode = 1
    if (opts.json) {
      output(true, { ok: false, code: error.code, message: error.message }, () => '')
      return
    }
    process.stderr.write(`hansa: chain refused — ${error.code}: ${error.message}\n`)
  }
}
