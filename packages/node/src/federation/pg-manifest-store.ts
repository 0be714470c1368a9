// The federation's chain and proposals on PostgreSQL (a node with `storage.backend = postgres`),
// shared by the node's processes: the same tables as federation.sqlite (manifest-store.ts).
// The federation service reads its store synchronously, so each process keeps a copy in memory,
// loaded at start; a change is made to the copy, written to the database in order (one write
// at a time, `flush` waits for them), and announced with NOTIFY, on which the other processes
// read the tables again (`reload`) — the node then offers the reloaded chain to its follower,
// which verifies it like any other before adopting it (node.ts).
import type { ManifestSignature, SignedManifest } from '@hansa/protocol'
import type { Logger } from 'pino'
import type pg from 'pg'
import { announce, inTransaction } from '../billing/pg-ledger.js'
import {
  type FederationStore,
  type ProposalRow,
  type StoredProposal,
  adoptedVersions,
  proposalOf,
} from './manifest-store.js'

type Mirror = {
  meta: Map<string, string>
  chain: SignedManifest[]
  proposals: StoredProposal[]
}

async function read(pool: pg.Pool): Promise<Mirror> {
  const meta = await pool.query<{ key: string; value: string }>(
    'SELECT key, value FROM federation_meta',
  )
  const chain = await pool.query<{ signed: string }>(
    'SELECT signed FROM federation_chain ORDER BY version',
  )
  const proposals = await pool.query<ProposalRow>(
    'SELECT hash, version, manifest, proposer, received_at FROM federation_proposals ORDER BY version, received_at, hash',
  )
  const sigs = await pool.query<{ hash: string; pubkey: string; sig: string }>(
    'SELECT hash, pubkey, sig FROM federation_proposal_signatures ORDER BY seq',
  )
  return {
    meta: new Map(meta.rows.map((r) => [r.key, r.value])),
    chain: chain.rows.map((r) => JSON.parse(r.signed) as SignedManifest),
    proposals: proposals.rows.map((r) =>
      proposalOf(
        r,
        sigs.rows
          .filter((s) => s.hash === r.hash)
          .map((s) => ({ pubkey: s.pubkey, sig: s.sig }) as ManifestSignature),
      ),
    ),
  }
}

export class PgManifestStore implements FederationStore {
  private writes: Promise<void> = Promise.resolve()

  private constructor(
    private readonly pool: pg.Pool,
    private mirror: Mirror,
    private readonly log: Logger,
  ) {}

  static async open(pool: pg.Pool, log: Logger): Promise<PgManifestStore> {
    return new PgManifestStore(pool, await read(pool), log)
  }

  /** Reads the tables again (another process changed them). */
  async reload(): Promise<void> {
    await this.flush()
    this.mirror = await read(this.pool)
  }

  /** Waits until every change made so far is committed. */
  async flush(): Promise<void> {
    await this.writes
  }

  private write(what: string, fn: (c: pg.PoolClient) => Promise<void>): void {
    this.writes = this.writes.then(() =>
      inTransaction(this.pool, async (c) => {
        await fn(c)
        await announce(c, 'fed')
      }).catch((err) =>
        this.log.error({ err, what }, 'federation: writing to the database failed'),
      ),
    )
  }

  federationId(): string | null {
    return this.mirror.meta.get('federation_id') ?? null
  }

  meta(key: string): string | null {
    return this.mirror.meta.get(key) ?? null
  }

  setMeta(key: string, value: string): void {
    this.mirror.meta.set(key, value)
    this.write('meta', async (c) => {
      await c.query(
        `INSERT INTO federation_meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [key, value],
      )
    })
  }

  chain(): SignedManifest[] {
    return [...this.mirror.chain]
  }

  adopt(
    federationId: string,
    entries: readonly { signed: SignedManifest; hash: string }[],
    now: number,
  ): void {
    const adopted = adoptedVersions(entries)
    if (adopted === undefined) return
    const { first, head } = adopted
    if (!this.mirror.meta.has('federation_id')) this.mirror.meta.set('federation_id', federationId)
    this.mirror.chain = [
      ...this.mirror.chain.filter((s) => s.manifest.version < first),
      ...entries.map((e) => e.signed),
    ]
    this.mirror.proposals = this.mirror.proposals.filter((p) => p.version > head)
    this.write('adopt', async (c) => {
      await c.query(
        `INSERT INTO federation_meta (key, value) VALUES ('federation_id', $1) ON CONFLICT DO NOTHING`,
        [federationId],
      )
      // A chain only grows: a version another process adopted first is kept, not replaced.
      const { rows } = await c.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM federation_chain',
      )
      const stored = rows[0]?.v ?? 0
      for (const { signed, hash } of entries) {
        if (signed.manifest.version <= stored) continue
        await c.query(
          'INSERT INTO federation_chain (version, hash, signed, adopted_at) VALUES ($1, $2, $3, $4)',
          [signed.manifest.version, hash, JSON.stringify(signed), now],
        )
      }
      await c.query('DELETE FROM federation_proposals WHERE version <= $1', [head])
    })
  }

  proposals(): StoredProposal[] {
    return this.mirror.proposals.map((p) => ({ ...p, signatures: [...p.signatures] }))
  }

  addProposal(p: Omit<StoredProposal, 'signatures'>): void {
    if (!this.mirror.proposals.some((x) => x.hash === p.hash)) {
      this.mirror.proposals.push({ ...p, signatures: [] })
      this.mirror.proposals.sort(
        (a, b) =>
          a.version - b.version ||
          a.receivedAt - b.receivedAt ||
          (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0),
      )
    }
    this.write('proposal', async (c) => {
      await c.query(
        `INSERT INTO federation_proposals (hash, version, manifest, proposer, received_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [p.hash, p.version, JSON.stringify(p.manifest), p.proposer, p.receivedAt],
      )
    })
  }

  addSignature(hash: string, signature: ManifestSignature): void {
    const p = this.mirror.proposals.find((x) => x.hash === hash)
    if (p && !p.signatures.some((s) => s.pubkey === signature.pubkey)) {
      p.signatures.push({ pubkey: signature.pubkey, sig: signature.sig } as ManifestSignature)
    }
    this.write('signature', async (c) => {
      await c.query(
        `INSERT INTO federation_proposal_signatures (hash, pubkey, sig)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM federation_proposals WHERE hash = $1)
         ON CONFLICT DO NOTHING`,
        [hash, signature.pubkey, signature.sig],
      )
    })
  }

  deleteProposal(hash: string): void {
    this.mirror.proposals = this.mirror.proposals.filter((p) => p.hash !== hash)
    this.write('delete proposal', async (c) => {
      await c.query('DELETE FROM federation_proposals WHERE hash = $1', [hash])
    })
  }

  close(): void {}
}
