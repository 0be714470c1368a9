// Gossip of the manifest between member nodes, over their HTTP API. Each round, for every
// peer (the other nodes the head lists, `federation.peers`, and the invite code's URLs):
//   GET /federation → a peer ahead of us: GET /federation/chain?from=<ours+1> and adopt it
//                     if it verifies; a peer behind us (or with no federation yet, when the
//                     head lists it): POST it the versions it lacks;
//   GET /federation/proposals → merge pending proposals and their signatures.
// Rounds run on a timer (`federation.syncIntervalSeconds`), at start, on demand
// (POST /federation/sync), and right after the node adopts a version, so one node that learns
// of a version spreads it. Everything received is verified; a peer is never trusted.
import type { Logger } from 'pino'
import type { Federation } from './federation-service.js'

export type PeerReport = {
  url: string
  ok: boolean
  federationId?: string | null
  version?: number | null
  /** What happened: pulled, pushed, in step, or why it failed. */
  result: string
}

export type SyncReport = {
  at: number
  version: number | null
  peers: PeerReport[]
}

export type ManifestSyncOptions = {
  federation: Federation
  nodePubkey: string
  /** This node's own URLs, never its own peer. */
  selfUrls: () => string[]
  /** `federation.peers`, read at each round (it can be reloaded). */
  configuredPeers: () => string[]
  intervalSeconds: number
  log: Logger
  now: () => number
  timeoutMs?: number
}

/** ws://host/path → http://host/path (wss → https); no trailing slash. */
export function httpBase(url: string): string {
  return url.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '')
}

type Json = Record<string, unknown>

export class ManifestSync {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<SyncReport> | undefined
  private again = false
  private stopped = false
  last: SyncReport | null = null

  constructor(private readonly options: ManifestSyncOptions) {
    options.federation.onChange(() => this.soon())
  }

  start(): void {
    this.timer = setInterval(() => this.soon(), this.options.intervalSeconds * 1000)
    this.timer.unref()
    this.soon()
  }

  stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    return this.running?.then(() => undefined) ?? Promise.resolve()
  }

  /** The peers of this round. */
  peers(): string[] {
    const { federation, nodePubkey } = this.options
    const urls: string[] = []
    for (const coordinator of federation.manifest()?.coordinators ?? []) {
      for (const node of coordinator.nodes) {
        if (node.pubkey !== nodePubkey) urls.push(...node.urls)
      }
    }
    urls.push(...this.options.configuredPeers(), ...federation.inviteUrls)
    const self = new Set(this.options.selfUrls().map(httpBase))
    return [...new Set(urls.map(httpBase))].filter((u) => !self.has(u))
  }

  private soon(): void {
    if (this.stopped) return
    this.syncOnce().catch((err) => this.options.log.error({ err }, 'manifest sync failed'))
  }

  /** Runs a round now (or joins the one running, then runs one more). */
  syncOnce(): Promise<SyncReport> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      let report: SyncReport
      do {
        this.again = false
        const peers = this.peers()
        const results = await Promise.all(peers.map((p) => this.withPeer(p)))
        report = {
          at: this.options.now(),
          version: this.options.federation.version(),
          peers: results,
        }
        this.last = report
      } while (this.again && !this.stopped)
      return report
    })().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async request(url: string, init: RequestInit = {}): Promise<unknown> {
    const response = await fetch(url, {
      ...init,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
    })
    const body = (await response.json().catch(() => null)) as Json | null
    if (!response.ok) {
      const error = (body?.error ?? {}) as { code?: string; message?: string }
      throw new Error(`${response.status} ${error.code ?? ''} ${error.message ?? ''}`.trim())
    }
    return body
  }

  private async withPeer(base: string): Promise<PeerReport> {
    const federation = this.options.federation
    try {
      const status = (await this.request(`${base}/federation`)) as Json
      const theirId = (status.federationId as string | null) ?? null
      const theirVersion = (status.version as number | null) ?? 0
      const ours = federation.federationId()
      const report = { url: base, ok: true, federationId: theirId, version: theirVersion }
      const expected = ours ?? federation.pinnedId
      if (theirId !== null && expected !== null && theirId !== expected) {
        return { ...report, ok: false, result: `belongs to another federation (${theirId})` }
      }
      const ourVersion = federation.version() ?? 0
      const parts: string[] = []
      if (theirId !== null && expected !== null && theirVersion > ourVersion) {
        const tail = await this.request(`${base}/federation/chain?from=${ourVersion + 1}`)
        const result = federation.offerChain(tail, `peer ${base}`)
        parts.push(`pulled versions ${ourVersion + 1}..${result.version}`)
      } else if (ours !== null && (theirId === null || theirVersion < ourVersion)) {
        const from = theirId === null ? 1 : theirVersion + 1
        await this.request(`${base}/federation/chain`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(federation.chainFrom(from)),
        })
        parts.push(`pushed versions ${from}..${ourVersion}`)
      }
      if (federation.federationId() !== null && theirId === federation.federationId()) {
        const list = (await this.request(`${base}/federation/proposals`)) as Json
        let merged = 0
        for (const p of (list.proposals as unknown[]) ?? []) {
          try {
            if (federation.mergeFromPeer(p, `peer ${base}`)) merged++
          } catch {
            // a proposal that does not fit our head (yet) is skipped
          }
        }
        if (merged > 0) parts.push(`adopted ${merged} proposal(s)`)
      }
      return { ...report, result: parts.length > 0 ? parts.join('; ') : 'in step' }
    } catch (error) {
      const message = (error as Error).message
      this.options.log.debug({ peer: base, err: message }, 'manifest sync: peer failed')
      return { url: base, ok: false, result: message }
    }
  }
}
