// `hansa nodes`: every node found (invite, manifest, discv5, yours), verified, with its terms,
// round trip and status — trusted, custom, disabled or rejected, and why.
import Table from 'cli-table3'
import { NODES_HEAD, type UserOptions, nodesCommand, nodesTableRows } from '../client/user.js'
import { lines, output } from '../print.js'

export default async function run(opts: UserOptions & { json?: boolean }) {
  const result = await nodesCommand(opts)
  output(opts.json, result, (r) => {
    const table = new Table({ head: NODES_HEAD, style: { head: [], border: [] } })
    for (const row of nodesTableRows(r)) table.push(row)
    const c = r.counts
    return lines([
      `${r.federation.name ?? 'Federation'} ${r.federation.id.slice(0, 16)}…, manifest version ${r.federation.version}`,
      table.toString(),
      `${c.trusted} trusted, ${c.custom} yours, ${c.disabled} disabled by your trust list, ${c.rejected} rejected — checked in ${r.durationMs} ms` +
        (r.discv5.enabled
          ? ` (discv5: ${r.discv5.federation} of this federation among ${r.discv5.found} found, ${r.discv5.durationMs} ms)`
          : ''),
      ...(r.registry
        ? [
            `On-chain registry ${r.registry.registry} (chain ${r.registry.chainId}): ${r.registry.state}${r.registry.anchored ? ` at version ${r.registry.anchored.version}` : ''}; ${r.nodes
              .filter((n) => n.pubkey !== null)
              .map((n) => `${n.url} ${n.registry ?? '-'}`)
              .join(', ')}`,
          ]
        : r.registryError
          ? [`On-chain registry not read: ${r.registryError}`]
          : []),
    ])
  })
}
