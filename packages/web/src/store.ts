// The client's state (joined federation, verified head, trust list, inbox relays, SWAP books)
// in the browser's localStorage: the same JSON document the CLI keeps in a file. Synchronous,
// as the SDK's ClientStore must be. No secret key is kept here (see keys.ts).
import { type ClientState, type ClientStore, EMPTY_CLIENT_STATE } from '@hansa/client'

export function localClientStore(name: string): ClientStore {
  const key = `hansa.client.${name}`
  return {
    load(): ClientState {
      const text = localStorage.getItem(key)
      if (text === null) return EMPTY_CLIENT_STATE
      try {
        return { ...EMPTY_CLIENT_STATE, ...(JSON.parse(text) as ClientState) }
      } catch {
        return EMPTY_CLIENT_STATE
      }
    },
    save(state: ClientState) {
      localStorage.setItem(key, JSON.stringify(state))
    },
  }
}

/** Small app settings and memories (last time each node answered), beside the client's state. */
export function readJson<T>(key: string, fallback: T): T {
  try {
    const text = localStorage.getItem(`hansa.${key}`)
    return text === null ? fallback : (JSON.parse(text) as T)
  } catch {
    return fallback
  }
}

export function writeJson(key: string, value: unknown): void {
  localStorage.setItem(`hansa.${key}`, JSON.stringify(value))
}
