// The federation's tables on PostgreSQL (a node with `storage.backend = postgres`): the chain,
// the proposals and their signatures of federation.sqlite (manifest-store.ts), prefixed.
export const FEDERATION_V1 = `
CREATE TABLE federation_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE federation_chain (
  version integer PRIMARY KEY,
  hash text NOT NULL,
  signed text NOT NULL,
  adopted_at bigint NOT NULL
);
CREATE TABLE federation_proposals (
  hash text PRIMARY KEY,
  version integer NOT NULL,
  manifest text NOT NULL,
  proposer text,
  received_at bigint NOT NULL
);
CREATE TABLE federation_proposal_signatures (
  hash text NOT NULL REFERENCES federation_proposals (hash) ON DELETE CASCADE,
  pubkey text NOT NULL,
  sig text NOT NULL,
  seq bigserial,
  PRIMARY KEY (hash, pubkey)
);
`
