// The manifest's types: the federation's signed state (DESIGN.md "The manifest"), typed to match
// the JSON exactly, and the format's limits. Validation is manifest-validation.ts, the diff a
// guardian reads before signing is manifest-diff.ts, signing manifest-signing.ts, the chain
// rules manifest-chain.ts; the API schemas (TypeBox) are api/federation.ts.

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

export type ManifestGuardian = { pubkey: string; name: string }

export type ManifestNode = {
  pubkey: string
  /** ws:// or wss:// URLs where the node answers. */
  urls: string[]
  /** Services the node offers; each is a key of the manifest's `services`. */
  services: string[]
}

export type ManifestCoordinator = {
  pubkey: string
  alias: string
  description: string
  /** Contact method → handle, e.g. { "email": "…", "nostr": "npub…" }. */
  contact: Record<string, string>
  /** Badge names guardians attest to, e.g. "donatesToDevFund". */
  badges?: string[]
  /** Policy title → policy text. */
  policies?: Record<string, string>
  nodes: ManifestNode[]
}

export type DevFund = {
  /** An x-only pubkey (64 lowercase hex) or an Ethereum address. */
  recipient: string
  /** The share of income coordinators are asked to donate, from 0 to 1 (DESIGN.md: 0.2). */
  suggestedRate: number
}

export type Manifest = {
  hansa: 1
  name: string
  version: number
  /** sha256 (lowercase hex) of the previous version's canonical bytes; null for genesis. */
  previous: string | null
  /** Unix seconds. */
  issuedAt: number
  /** Unix seconds; the manifest is expired from this second on. */
  expiresAt: number
  guardians: ManifestGuardian[]
  threshold: number
  coordinators: ManifestCoordinator[]
  /** Service name → the federation-wide parameters of that service. */
  services: Record<string, JsonObject>
  devFund: DevFund
}

export type ManifestSignature = { pubkey: string; sig: string }

export type SignedManifest = { manifest: Manifest; signatures: ManifestSignature[] }

export const MANIFEST_FORMAT = 1

export const MANIFEST_LIMITS = {
  nameLength: 100,
  guardianNameLength: 64,
  guardians: 100,
  aliasLength: 64,
  descriptionLength: 2000,
  contactEntries: 32,
  contactKeyLength: 32,
  contactValueLength: 512,
  badges: 32,
  badgeLength: 64,
  policies: 32,
  policyTitleLength: 100,
  policyTextLength: 4000,
  urlLength: 512,
  urlsPerNode: 16,
  servicesPerNode: 32,
  serviceNameLength: 32,
  /** Signature entries in one signed manifest (bounds the work a verifier can be made to do). */
  signatures: 256,
} as const
