// One HansaClient per role and key, made for the browser: its own WebSocket, fetch and
// crypto, the state in localStorage, and no Discovery v5 (a page has no UDP). Every call the
// app makes to a node goes through @hansa/client.
import { type HansaClient, createHansaClient } from '@hansa/client'
import { localClientStore } from './store.js'

export function browserClient(secretKey: Uint8Array | null, storeName = 'user'): HansaClient {
  return createHansaClient({
    ...(secretKey === null ? {} : { secretKey }),
    store: localClientStore(storeName),
    WebSocket: globalThis.WebSocket,
    fetch: (input, init) => globalThis.fetch(input, init),
    randomBytes: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
    discv5: { enabled: false },
  })
}

/** The ws:// URL of the node that served this page (the app lives at its /app). */
export function servingNodeUrl(): string {
  return location.origin.replace(/^http/, 'ws')
}
