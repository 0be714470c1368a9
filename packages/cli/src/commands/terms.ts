// `hansa terms`: a node's signed terms, verified, as a person reads them (or --json).
import { showTerms } from '../billing/billing.js'
import { lines, output } from '../print.js'

export default async function run(opts: { node?: string; json?: boolean }): Promise<void> {
  const result = await showTerms(opts.node)
  output(opts.json, { url: result.url, terms: result.terms }, () => lines(result.lines))
}
