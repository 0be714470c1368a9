// Where a node keeps its federation: the verified manifest chain and the pending proposals
// with their signatures, in `federation.sqlite` in the data folder (its own file, not the
// events database: a node's federation outlives a wiped event store, and `rm federation.sqlite`
// is how an operator detaches a node from a federation). A data folder holds one federation.
//
// The chain is small (a few kilobytes per version), so the federation service keeps it in
// memory and this store is written through: every adopted version is committed (fsynced)
// before the node says it adopted it.
import Database from 'better-sqlite3'
import type { Manifest, ManifestSignature, SignedManifest } from '@hansa/protocol'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chain (
  version INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  signed TEXT NOT NULL,
  adopted_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS proposals (
  hash TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  manifest TEXT NOT NULL,
  proposer TEXT,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS proposal_signatures (
  hash TEXT NOT NULL REFERENCES proposals (hash) ON DELETE CASCADE,
  pubkey TEXT NOT NULL,
  sig TEXT NOT NULL,
  PRIMARY KEY (hash, pubkey)
);
`

export type StoredProposal = {
  hash: string
  version: number
  manifest: Manifest
  /** The guardian whose NIP-98 request brought it here; null when it came from a peer. */
  proposer: string | null
  receivedAt: number
  /** Valid signatures by guardians of the head or of the proposal, one per key. */
  signatures: ManifestSignature[]
}

/** A proposals row as either database returns it (PostgreSQL's bigints come as strings). */
export type ProposalRow = {
  hash: string
  version: number
  manifest: string
  proposer: string | null
  received_at: number | string
}

export const proposalOf = (r: ProposalRow, signatures: ManifestSignature[]): StoredProposal => ({
  hash: r.hash,
  version: r.version,
  manifest: JSON.parse(r.manifest) as Manifest,
  proposer: r.proposer,
  receivedAt: Number(r.received_at),
  signatures,
})

/**
 * The versions an adoption replaces the chain from and up to (its first and last entry);
 * undefined when there is nothing to adopt. Proposals up to `head` are superseded.
 */
export function adoptedVersions(
  entries: readonly { signed: SignedManifest }[],
): { first: number; head: number } | undefined {
  const first = entries[0]?.signed.manifest.version
  if (first === undefined) return undefined
  return { first, head: entries[entries.length - 1]!.signed.manifest.version }
}

/**
 * What the federation service keeps: federation.sqlite (ManifestStore), or, on a node whose
 * events are in PostgreSQL, that database (PgManifestStore, shared by the node's processes).
 */
export interface FederationStore {
  federationId(): string | null
  meta(key: string): string | null
  setMeta(key: string, value: string): void
  chain(): SignedManifest[]
  adopt(
    federationId: string,
    entries: readonly { signed: SignedManifest; hash: string }[],
    now: number,
  ): void
  proposals(): StoredProposal[]
  addProposal(p: Omit<StoredProposal, 'signatures'>): void
  addSignature(hash: string, signature: ManifestSignature): void
  deleteProposal(hash: string): void
  /** Waits until every change is committed (a store that writes behind; SQLite writes at once). */
  flush?(): Promise<void>
  close(): void
}

export class ManifestStore implements FederationStore {
  private readonly db: Database.Database

  constructor(path: string) {
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma('foreign_keys = ON')
    this.db.exec(SCHEMA)
  }

  federationId(): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('federation_id') as
      | { value: string }
      | undefined
    return row?.value ?? null
  }

  meta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined
    return row?.value ?? null
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value)
  }

  /** The stored chain, oldest first. */
  chain(): SignedManifest[] {
    const rows = this.db.prepare('SELECT signed FROM chain ORDER BY version').all() as {
      signed: string
    }[]
    return rows.map((r) => JSON.parse(r.signed) as SignedManifest)
  }

  /**
   * Replaces the chain from the first entry's version on (a verified, longer chain) and drops
   * proposals it supersedes, in one transaction.
   */
  adopt(
    federationId: string,
    entries: readonly { signed: SignedManifest; hash: string }[],
    now: number,
  ): void {
    const adopted = adoptedVersions(entries)
    if (adopted === undefined) return
    const { first, head } = adopted
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)')
        .run('federation_id', federationId)
      this.db.prepare('DELETE FROM chain WHERE version >= ?').run(first)
      const insert = this.db.prepare(
        'INSERT INTO chain (version, hash, signed, adopted_at) VALUES (?, ?, ?, ?)',
      )
      for (const { signed, hash } of entries) {
        insert.run(signed.manifest.version, hash, JSON.stringify(signed), now)
      }
      this.db.prepare('DELETE FROM proposals WHERE version <= ?').run(head)
    })()
  }

  proposals(): StoredProposal[] {
    const rows = this.db
      .prepare(
        'SELECT hash, version, manifest, proposer, received_at FROM proposals ORDER BY version, received_at, hash',
      )
      .all() as ProposalRow[]
    const sigs = this.db.prepare(
      'SELECT pubkey, sig FROM proposal_signatures WHERE hash = ? ORDER BY rowid',
    )
    return rows.map((r) => proposalOf(r, sigs.all(r.hash) as ManifestSignature[]))
  }

  addProposal(p: Omit<StoredProposal, 'signatures'>): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO proposals (hash, version, manifest, proposer, received_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(p.hash, p.version, JSON.stringify(p.manifest), p.proposer, p.receivedAt)
  }

  addSignature(hash: string, signature: ManifestSignature): void {
    this.db
      .prepare('INSERT OR IGNORE INTO proposal_signatures (hash, pubkey, sig) VALUES (?, ?, ?)')
      .run(hash, signature.pubkey, signature.sig)
  }

  deleteProposal(hash: string): void {
    this.db.prepare('DELETE FROM proposals WHERE hash = ?').run(hash)
  }

  close(): void {
    this.db.close()
  }
}
