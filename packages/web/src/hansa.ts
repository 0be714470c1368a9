// One HansaClient per role and key, made for the browser: its own WebSocket, fetch and
// crypto, the state in localStorage, and no Discovery v5 (a page has no UDP). Every call the
// app makes to a node goes through @hansa/client.
import {
  type Eip1193Provider,
  type HansaClient,
  type NostrSigner,
  createHansaClient,
} from '@hansa/client'
import { localClientStore } from './store.js'

/** Who the client acts as: a key kept here, a NIP-07 signer, or nobody yet (browsing). */
export type Identity =
  | { kind: 'local'; secretKey: Uint8Array }
  | { kind: 'nip07'; signer: NostrSigner }
  | null

export function browserClient(identity: Identity, storeName = 'user'): HansaClient {
  // The on-chain registry is read through the browser's wallet when it has one: the page has
  // no RPC URL of its own, and a Hansa node must not be the one vouching for itself.
  const wallet = (globalThis as { ethereum?: Eip1193Provider }).ethereum
  return createHansaClient({
    ...(wallet ? { registry: { provider: wallet } } : {}),
    ...(identity === null
      ? {}
      : identity.kind === 'local'
        ? { secretKey: identity.secretKey }
        : { signer: identity.signer }),
    store: localClientStore(storeName),
    WebSocket: globalThis.WebSocket,
    fetch: (input, init) => globalThis.fetch(input, init),
    randomBytes: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
    discv5: { enabled: false },
    // A key kept here trades under a key of its own at each coordinator (unlinkable across
    // them); a NIP-07 signer has no secret to derive them from, so it trades as itself.
    orders: { perCoordinatorKeys: identity?.kind === 'local' },
  })
}

/** The ws:// URL of the node that served this page (the app lives at its /app). */
export function servingNodeUrl(): string {
  return location.origin.replace(/^http/, 'ws')
}
