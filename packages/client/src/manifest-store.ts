// What a client trusts: the highest manifest version it has verified for one federation. Every
// chain it receives is verified from genesis against the federation id (verifyChain), then
// compared with the stored head (acceptHead): a lower version is refused (rollback), and a
// different manifest at a version already verified is refused and reported (fork), with both
// signed manifests kept so the user can show them to the guardians. Storage is passed in (a
// file, IndexedDB, memory), as the environment always is.
import {
  HansaError,
  type ManifestForkError,
  type SignedManifest,
  type StoredHead,
  acceptHead,
  verifyChain,
} from '@hansa/protocol'
import { getChain } from './federation-api.js'

export type HeadStorage = {
  load(): Promise<StoredHead | undefined> | StoredHead | undefined
  save(head: StoredHead): Promise<void> | void
}

/** Keeps the head in memory (tests, short-lived processes). */
export function memoryHeadStorage(initial?: StoredHead): HeadStorage & { current?: StoredHead } {
  const storage: HeadStorage & { current?: StoredHead } = {
    load: () => storage.current,
    save: (head) => {
      storage.current = head
    },
  }
  if (initial !== undefined) storage.current = initial
  return storage
}

export type ForkReport = {
  version: number
  storedHash: string
  candidateHash: string
  stored: SignedManifest
  candidate: SignedManifest
  /** Where the conflicting chain came from. */
  source: string
}

export type HeadUpdate =
  | { ok: true; head: StoredHead; changed: boolean }
  | { ok: false; error: HansaError; fork?: ForkReport }

export type ManifestStoreOptions = {
  federationId: string
  storage: HeadStorage
  /** Unix seconds (passed in, for tests). */
  now?: () => number
}

export class ManifestStore {
  readonly federationId: string
  /** Every fork seen, oldest first. */
  readonly forks: ForkReport[] = []
  private readonly storage: HeadStorage
  private readonly now: () => number

  constructor(options: ManifestStoreOptions) {
    this.federationId = options.federationId
    this.storage = options.storage
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000))
  }

  /** The stored head, or undefined before the first verified chain. */
  async head(): Promise<StoredHead | undefined> {
    return this.storage.load()
  }

  /**
   * Verifies `chain` (a JSON array of signed manifests, oldest first, from genesis) and keeps
   * its head if it is newer than the stored one. Never throws for bad input: the result says
   * which rule was broken.
   */
  async update(chain: unknown, source = 'a chain'): Promise<HeadUpdate> {
    const verified = verifyChain(this.federationId, Array.isArray(chain) ? chain : [chain], {
      now: this.now(),
    })
    if (!verified.ok) return { ok: false, error: verified.error }
    const stored = await this.storage.load()
    const decision = acceptHead(stored, verified.head)
    if (!decision.ok) {
      const error = decision.error
      if (error.code === 'HANSA_MANIFEST_FORK') {
        const forkError = error as ManifestForkError
        const fork: ForkReport = {
          version: forkError.version,
          storedHash: forkError.storedHash,
          candidateHash: forkError.candidateHash,
          stored: forkError.stored,
          candidate: forkError.candidate,
          source,
        }
        this.forks.push(fork)
        return { ok: false, error, fork }
      }
      return { ok: false, error }
    }
    const head: StoredHead = {
      federationId: decision.head.federationId,
      version: decision.head.version,
      hash: decision.head.hash,
      signed: decision.head.signed,
    }
    if (decision.changed) await this.storage.save(head)
    return { ok: true, head, changed: decision.changed }
  }

  /** Fetches the chain from a node (GET /federation/chain) and updates the head from it. */
  async refreshFrom(nodeUrl: string): Promise<HeadUpdate> {
    let chain: unknown[]
    try {
      chain = await getChain(nodeUrl, 1)
    } catch (error) {
      if (error instanceof HansaError) return { ok: false, error }
      throw error
    }
    return this.update(chain, nodeUrl)
  }
}
