// nostr-tools' NIP-77 negentropy (Negentropy, NegentropyStorageVector, NegentropySync), typed.
//
// Why this detour: nostr-tools 2.25 ships lib/esm/nip77.js but leaves `./nip77` out of its
// package.json `exports` map, so `import 'nostr-tools/nip77'` fails to resolve (Node and
// TypeScript both honour the map). We resolve the package's own entry point (which the map
// does export), take nip77.js from the ESM folder next to it, and import that file by URL.
// Its types live in lib/types/nip77.d.ts, which the map hides as well, so the few members
// Hansa uses are declared here; a test reconciles against the real class, so a mismatch
// after an upgrade fails loudly. When nostr-tools exports `./nip77`, replace this module by
// a plain import.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AbstractRelay } from 'nostr-tools/abstract-relay'
import type { Filter } from '@hansa/protocol'

/** The sorted (created_at, id) set one side reconciles. */
export interface NegentropyStorageVector {
  insert(timestamp: number, id: string): void
  seal(): void
  size(): number
}

/** One side of a negentropy reconciliation (protocol version 1, byte 0x61). */
export interface Negentropy {
  /** The initiator's first message (hex). */
  initiate(): string
  /**
   * Answers a message (hex). The initiator learns ids it has and the other side lacks
   * (`onhave`) and ids it lacks (`onneed`); null when it has nothing more to say.
   */
  reconcile(
    message: string,
    onhave?: (id: string) => void,
    onneed?: (id: string) => void,
  ): string | null
}

/** nostr-tools' NIP-77 client over one of its relays (used by tests as an outside client). */
export interface NegentropySync {
  start(): Promise<void>
  close(): void
}

export type Nip77 = {
  Negentropy: new (storage: NegentropyStorageVector, frameSizeLimit?: number) => Negentropy
  NegentropyStorageVector: new () => NegentropyStorageVector
  NegentropySync: new (
    relay: AbstractRelay,
    storage: NegentropyStorageVector,
    filter: Filter,
    params?: {
      label?: string
      onhave?: (id: string) => void
      onneed?: (id: string) => void
      onclose?: (reason?: string) => void
    },
  ) => NegentropySync
}

const require = createRequire(import.meta.url)
// `require.resolve('nostr-tools')` follows the map's "require" condition: lib/cjs/index.js.
const file = join(dirname(require.resolve('nostr-tools')), '..', 'esm', 'nip77.js')

export const nip77 = (await import(pathToFileURL(file).href)) as Nip77

/** The protocol version byte nostr-tools speaks, as the hex a peer answers with. */
export const NEGENTROPY_VERSION_HEX = '61'
