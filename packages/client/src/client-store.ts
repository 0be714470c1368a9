// What a HansaClient remembers between runs, in one JSON document: the federation it joined
// and the highest manifest head it verified, the user's trust list, the inbox nodes it uses,
// and its SWAP books per metered node (so a restarted app never signs a payout twice). The
// CLI keeps it in ~/.config/hansa/client.json (mode 0600); an app passes its own store
// (IndexedDB, a keychain, memory). No secret key is kept here.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import type { StoredHead } from '@hansa/protocol'
import { ClientStoreError } from './errors.js'
import type { HeadStorage } from './manifest-store.js'
import type { PayerState, PayerStorage } from './swap-payer.js'
import { DEFAULT_TRUST_LIST, type TrustList, parseTrustList } from './trust.js'

export type ClientState = {
  hansa: 1
  federation: {
    id: string
    inviteCode: string
    name: string | null
    head: StoredHead | null
  } | null
  trust: TrustList
  /** The nodes holding the user's mail, in her order (published as her kind 10050 list). */
  inboxRelays: string[]
  /** created_at of the last kind 10050 list published: the next must be later (NIP-01 keeps
   *  one replaceable event, and of two from the same second the lower id, not the newer). */
  inboxRelaysAt: number
  /** SWAP books per metered node pubkey. */
  payers: Record<string, PayerState>
  /** The user's chequebooks on chain (hard mode), newest last (hansa chequebook deploy). */
  chequebooks: ChequebookRecord[]
}

/** A chequebook contract the user's key issues, deployed by a factory on one chain. */
export type ChequebookRecord = {
  chainId: number
  /** The ChequebookFactory that deployed it (what a node's terms name). */
  factory: string
  /** The issuer: the user key's Ethereum address. */
  issuer: string
  chequebook: string
  /** Unix seconds. */
  deployedAt: number
}

export const EMPTY_CLIENT_STATE: ClientState = Object.freeze({
  hansa: 1,
  federation: null,
  trust: DEFAULT_TRUST_LIST,
  inboxRelays: [],
  inboxRelaysAt: 0,
  payers: {},
  chequebooks: [],
}) as ClientState

/** Synchronous on purpose: a SWAP payer saves after every request it books. */
export interface ClientStore {
  load(): ClientState
  save(state: ClientState): void
}

export function memoryClientStore(initial: ClientState = EMPTY_CLIENT_STATE): ClientStore & {
  state: ClientState
} {
  const store = {
    state: initial,
    load: () => store.state,
    save: (state: ClientState) => {
      store.state = state
    },
  }
  return store
}

/** `$HANSA_CLIENT_CONFIG`, else `$XDG_CONFIG_HOME/hansa/client.json`, else ~/.config/…. */
export function defaultClientConfigPath(env: Record<string, string | undefined> = {}): string {
  if (env.HANSA_CLIENT_CONFIG) return env.HANSA_CLIENT_CONFIG
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  return join(base, 'hansa', 'client.json')
}

function parseState(value: unknown, path: string): ClientState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ClientStoreError(`${path} is not a JSON object`)
  }
  const v = value as Partial<ClientState>
  return {
    hansa: 1,
    federation: v.federation ?? null,
    trust: parseTrustList(v.trust),
    inboxRelays: Array.isArray(v.inboxRelays)
      ? v.inboxRelays.filter((u) => typeof u === 'string')
      : [],
    inboxRelaysAt: typeof v.inboxRelaysAt === 'number' ? v.inboxRelaysAt : 0,
    payers: typeof v.payers === 'object' && v.payers !== null ? v.payers : {},
    chequebooks: Array.isArray(v.chequebooks) ? v.chequebooks.filter(isChequebookRecord) : [],
  }
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const isChequebookRecord = (r: unknown): r is ChequebookRecord => {
  const c = r as Partial<ChequebookRecord> | null
  return (
    typeof c === 'object' &&
    c !== null &&
    Number.isSafeInteger(c.chainId) &&
    ADDRESS.test(String(c.factory)) &&
    ADDRESS.test(String(c.issuer)) &&
    ADDRESS.test(String(c.chequebook)) &&
    typeof c.deployedAt === 'number'
  )
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/** Remembers a chequebook (the newest of a chain, factory and issuer is the one used). */
export function rememberChequebook(store: ClientStore, record: ChequebookRecord): void {
  const state = store.load()
  const others = state.chequebooks.filter((c) => !same(c.chequebook, record.chequebook))
  store.save({ ...state, chequebooks: [...others, record] })
}

/** The newest chequebook `issuer` has from `factory` on `chainId`, or null. */
export function chequebookFor(
  store: ClientStore,
  where: { chainId: number; factory: string; issuer: string },
): string | null {
  const found = store
    .load()
    .chequebooks.filter(
      (c) =>
        c.chainId === where.chainId &&
        same(c.factory, where.factory) &&
        same(c.issuer, where.issuer),
    )
  return found.at(-1)?.chequebook ?? null
}

/** A JSON file (mode 0600), written atomically (a temporary file renamed over it). */
export function fileClientStore(path: string): ClientStore {
  return {
    load() {
      let text: string
      try {
        text = readFileSync(path, 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_CLIENT_STATE
        throw new ClientStoreError(`cannot read ${path}`, error)
      }
      try {
        return parseState(JSON.parse(text), path)
      } catch (error) {
        if (error instanceof ClientStoreError) throw error
        throw new ClientStoreError(`${path} is not valid JSON; fix or remove it`, error)
      }
    },
    save(state) {
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
        const tmp = `${path}.${process.pid}.tmp`
        writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
        renameSync(tmp, path)
      } catch (error) {
        throw new ClientStoreError(`cannot write ${path}`, error)
      }
    },
  }
}

/** The manifest head, kept inside the client state (for ManifestStore). */
export function headStorageOf(store: ClientStore): HeadStorage {
  return {
    load: () => store.load().federation?.head ?? undefined,
    save: (head) => {
      const state = store.load()
      if (state.federation === null || state.federation.id !== head.federationId) return
      store.save({ ...state, federation: { ...state.federation, head } })
    },
  }
}

/** SWAP books per node, kept inside the client state (for SwapPayer). */
export function payerStorageOf(store: ClientStore): PayerStorage {
  return {
    load: (node) => store.load().payers[node],
    save: (node, payer) => {
      const state = store.load()
      store.save({ ...state, payers: { ...state.payers, [node]: { ...payer } } })
    },
  }
}
