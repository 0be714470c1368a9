// `hansa federation sync-status`: how a node replicates with each peer member node — connected
// or not, lag, events sent and received, the last NIP-77 catch-up (when, how long, bytes, what
// moved, or why it failed). A table; `--json` prints the node's document itself.
import { getSyncStatus } from '@hansa/client'
import type { SyncStatusDocument } from '@hansa/protocol'
import Table from 'cli-table3'
import { loadGuardian, nodeUrlOf } from '../federation/guardian.js'
import { lines, output } from '../print.js'

const HEAD = ['peer', 'coordinator', 'services', 'link', 'lag', 'sent', 'received', 'last catch-up']

const ago = (at: number, now: number) => {
  const s = Math.max(0, now - at)
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`
}

/** The table's rows, one per peer (kept apart from printing, for tests). */
export function syncStatusRows(doc: SyncStatusDocument, now: number): string[][] {
  return doc.peers.map((p) => {
    const r = p.lastReconcile
    const last =
      r === null
        ? 'not yet'
        : r.error !== null
          ? `failed ${ago(r.at, now)}: ${r.error}`
          : `${ago(r.at, now)}, ${Math.round(r.durationMs)} ms, ${r.bytes} B, ${r.fetched} fetched, peer lacks ${r.peerLacks}`
    return [
      `${p.pubkey.slice(0, 12)}… ${p.url}`,
      p.coordinator,
      p.services.join(', '),
      p.connected ? 'up' : `DOWN${p.lastError ? `: ${p.lastError}` : ''}`,
      `${p.lagSeconds.toFixed(1)} s${p.queued > 0 ? ` (${p.queued} queued)` : ''}`,
      String(p.eventsSent),
      String(p.eventsReceived),
      last,
    ]
  })
}

export default async function run(opts: {
  node?: string
  dataDir?: string
  json?: boolean
}): Promise<void> {
  const guardian = opts.node === undefined ? loadGuardian(opts) : undefined
  const url = nodeUrlOf(opts, guardian)
  const doc = await getSyncStatus(url)
  output(opts.json, doc, (d) => {
    if (!d.enabled) return lines([`${url}: replication is turned off (replication.enabled).`])
    if (d.peers.length === 0) {
      return lines([
        `${url}: no replication peers — the manifest lists no other member node for the services this node shares.`,
      ])
    }
    const table = new Table({ head: HEAD, style: { head: [], border: [] } })
    for (const row of syncStatusRows(d, Math.floor(Date.now() / 1000))) table.push(row)
    return lines([`Replication of node ${d.node.slice(0, 12)}… (${url})`, table.toString()])
  })
}
