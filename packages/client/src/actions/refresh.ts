// refresh(client): asks the federation's nodes for a newer manifest head — the nodes this run
// trusts, then the manifest's and the invite code's URLs, a few at a time — verifies what they
// send (ManifestStore), and when the head changed, re-judges every node checked in this run:
// a removed coordinator's nodes are rejected at once ("not in manifest version N"), without
// asking them anything.
import { decodeInviteCode } from '@hansa/protocol'
import type { HansaClient } from '../client.js'
import { headStorageOf } from '../client-store.js'
import { getJson } from '../discovery-api.js'
import { NotJoinedError } from '../errors.js'
import { httpUrlOf } from '../federation-api.js'
import { type ForkReport, ManifestStore } from '../manifest-store.js'
import type { NodeReport } from '../policy.js'
import { rebuildReports } from '../reports.js'

export type RefreshResult = {
  federationId: string
  version: number
  previousVersion: number
  changed: boolean
  /** Nodes trusted before the change and not after it. */
  dropped: NodeReport[]
  /** URLs that answered with a chain. */
  answered: string[]
  forks: ForkReport[]
}

/** How many nodes are asked at once; the next few only if none of those answered. */
const BATCH = 4

export async function refresh(client: HansaClient): Promise<RefreshResult> {
  const state = client.store.load()
  const federation = state.federation
  if (federation === null || federation.head === null) throw new NotJoinedError()
  const previousVersion = federation.head.version
  const manifests = new ManifestStore({
    federationId: federation.id,
    storage: headStorageOf(client.store),
    now: client.env.now,
  })
  const trusted = client.runtime.reports.filter((r) => r.status === 'trusted').map((r) => r.url)
  const listed = federation.head.signed.manifest.coordinators.flatMap((c) =>
    c.nodes.flatMap((n) => n.urls),
  )
  const invited = decodeInviteCode(federation.inviteCode).urls
  const urls = [...new Set([...trusted, ...listed, ...invited])]
  const env = { fetch: client.env.fetch, timeoutMs: client.env.requestMs }
  const answered: string[] = []
  for (let i = 0; i < urls.length && answered.length === 0; i += BATCH) {
    const chains = await Promise.all(
      urls.slice(i, i + BATCH).map((url) =>
        getJson(`${httpUrlOf(url)}/federation/chain?from=1`, env).then(
          (chain) => ({ url, chain }),
          () => ({ url, chain: undefined }),
        ),
      ),
    )
    // Verified one after the other: the store keeps the highest head.
    for (const { url, chain } of chains) {
      if (chain === undefined) continue
      if ((await manifests.update(chain, url)).ok) answered.push(url)
    }
  }
  const head = (await manifests.head())!
  const changed = head.version !== previousVersion
  const before = client.runtime.reports
  if (changed && client.runtime.checked.size > 0) rebuildReports(client)
  const trustedNow = new Set(
    client.runtime.reports.filter((r) => r.status === 'trusted').map((r) => r.url),
  )
  return {
    federationId: federation.id,
    version: head.version,
    previousVersion,
    changed,
    dropped: changed
      ? client.runtime.reports.filter(
          (r) =>
            !trustedNow.has(r.url) && before.some((b) => b.url === r.url && b.status === 'trusted'),
        )
      : [],
    answered,
    forks: manifests.forks,
  }
}
