// join(client, { inviteCode }): decodes the invite code, fetches the manifest chain from every
// node it names (at once), verifies each chain from genesis against the code's federation id
// (ManifestStore: TUF rules, never a rollback, forks reported), and keeps the highest verified
// head in the client's store. Joining another federation replaces the one joined before.
import { decodeInviteCode } from '@hansa/protocol'
import type { HansaClient } from '../client.js'
import { headStorageOf } from '../client-store.js'
import { getJson } from '../discovery-api.js'
import { JoinFailedError } from '../errors.js'
import { httpUrlOf } from '../federation-api.js'
import { type ForkReport, ManifestStore } from '../manifest-store.js'

export type JoinParams = { inviteCode: string }

export type JoinResult = {
  federationId: string
  name: string
  version: number
  expiresAt: number
  coordinators: Array<{ pubkey: string; alias: string; nodes: number }>
  /** Node URLs in the invite code. */
  inviteUrls: string[]
  /** Where each chain came from, and what became of it. */
  fetched: Array<{ url: string; ok: boolean; version: number | null; error: string | null }>
  /** The federation joined before, when this one replaced it. */
  replaced: string | null
  forks: ForkReport[]
}

export async function join(client: HansaClient, params: JoinParams): Promise<JoinResult> {
  const invite = decodeInviteCode(params.inviteCode.trim())
  const before = client.store.load()
  const replaced =
    before.federation !== null && before.federation.id !== invite.federationId
      ? before.federation.id
      : null
  if (before.federation?.id !== invite.federationId) {
    client.store.save({
      ...before,
      federation: {
        id: invite.federationId,
        inviteCode: params.inviteCode.trim(),
        name: null,
        head: null,
      },
      inboxRelays: [],
    })
    client.runtime.checked.clear()
    client.runtime.reports = []
  }
  const manifests = new ManifestStore({
    federationId: invite.federationId,
    storage: headStorageOf(client.store),
    now: client.env.now,
  })
  const env = { fetch: client.env.fetch, timeoutMs: client.env.requestMs }
  // Fetched at once, verified one after the other (the store keeps the highest head).
  const chains = await Promise.all(
    invite.urls.map((url) =>
      getJson(`${httpUrlOf(url)}/federation/chain?from=1`, env).then(
        (chain) => ({ url, chain, error: null }),
        (error: Error) => ({ url, chain: undefined, error: error.message }),
      ),
    ),
  )
  const fetched: JoinResult['fetched'] = []
  for (const { url, chain, error } of chains) {
    if (error !== null) {
      fetched.push({ url, ok: false, version: null, error })
      continue
    }
    const update = await manifests.update(chain, url)
    fetched.push(
      update.ok
        ? { url, ok: true, version: update.head.version, error: null }
        : { url, ok: false, version: null, error: update.error.message },
    )
  }
  const head = await manifests.head()
  if (head === undefined) {
    throw new JoinFailedError(fetched.map((f) => ({ url: f.url, error: f.error ?? 'no chain' })))
  }
  const manifest = head.signed.manifest
  const state = client.store.load()
  client.store.save({
    ...state,
    federation: { ...state.federation!, inviteCode: params.inviteCode.trim(), name: manifest.name },
  })
  return {
    federationId: invite.federationId,
    name: manifest.name,
    version: head.version,
    expiresAt: manifest.expiresAt,
    coordinators: manifest.coordinators.map((c) => ({
      pubkey: c.pubkey,
      alias: c.alias,
      nodes: c.nodes.length,
    })),
    inviteUrls: invite.urls,
    fetched,
    replaced,
    forks: manifests.forks,
  }
}
