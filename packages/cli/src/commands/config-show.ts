// `hansa config show`: the resolved configuration, as JSON.
import { type NodeFlags, nodeConfigFromFlags } from './node-config.js'

export default async function run(opts: NodeFlags): Promise<void> {
  process.stdout.write(`${JSON.stringify(nodeConfigFromFlags(opts), null, 2)}\n`)
}
