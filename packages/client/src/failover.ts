// Failing over: an operation is tried on one node after another, in the order given (a
// ranking, or the user's inbox relays with those that failed lately moved last), until one
// succeeds. Each failure marks its node down for `downSeconds`, so the next operation starts
// elsewhere; a success clears the mark. Every attempt is reported.
import { getTerms } from './billing-api.js'
import type { HansaClient } from './client.js'
import { ethereumAddress } from '@hansa/protocol'
import { chequebookFor, payerStorageOf } from './client-store.js'
import { AllNodesFailedError, type Attempt, ChequebookMissingError } from './errors.js'
import { downSet, markDown, markUp } from './reports.js'
import { SwapPayer } from './swap-payer.js'
import { type NostrSigner, requireSecret } from './signer.js'

export type { Attempt }

/** `urls` with those that failed lately moved to the end (order otherwise kept). */
export function healthyFirst(client: HansaClient, urls: readonly string[]): string[] {
  const down = downSet(client)
  return [...urls.filter((u) => !down.has(u)), ...urls.filter((u) => down.has(u))]
}

export async function tryInOrder<T>(
  client: HansaClient,
  what: string,
  urls: readonly string[],
  attempt: (url: string) => Promise<T>,
): Promise<{ value: T; url: string; attempts: Attempt[] }> {
  const attempts: Attempt[] = []
  for (const url of urls) {
    try {
      const value = await attempt(url)
      markUp(client, url)
      return { value, url, attempts }
    } catch (error) {
      markDown(client, url)
      attempts.push({ url, error: (error as Error).message ?? String(error) })
    }
  }
  throw new AllNodesFailedError(what, attempts)
}

/**
 * The SWAP payer for a node whose `service` is metered (null when it is not, or its terms
 * cannot be read). One per node URL per run; its books live in the client's store. In hard
 * mode (cheques cashed on chain) it pays from the user's chequebook of the factory the terms
 * name (remembered by `hansa chequebook deploy`); without one it throws
 * ChequebookMissingError rather than sign cheques the node must refuse.
 */
export async function payerFor(
  client: HansaClient,
  url: string,
  service: string,
  signer: NostrSigner,
): Promise<SwapPayer | null> {
  const cached = client.runtime.payers.get(url)
  if (cached) return cached
  let terms = client.runtime.reports.find((r) => r.url === url)?.terms ?? null
  const api = { timeoutMs: client.env.requestMs, now: client.env.now }
  if (terms === null) {
    try {
      terms = (await getTerms(url, undefined, api)).terms
    } catch {
      return null
    }
  }
  const metered = terms.services[service]
  if (metered?.access !== 'metered') return null
  // SWAP pays with EIP-712 cheques: the key itself, not a Nostr event (signer.ts).
  const secretKey = requireSecret(signer, `paying ${url}'s metered ${service} (SWAP cheques)`)
  let chequebook: string | null = null
  if (metered.swap === 'hard') {
    const where = {
      chainId: terms.settlement.chainId,
      factory: terms.settlement.evm?.chequebookFactory ?? '',
      issuer: ethereumAddress(secretKey),
    }
    chequebook = where.factory ? chequebookFor(client.store, where) : null
    if (chequebook === null) {
      throw new ChequebookMissingError(url, where.chainId, where.factory || 'none', where.issuer)
    }
  }
  const payer = await SwapPayer.connect({
    nodeUrl: url,
    secretKey,
    service,
    storage: payerStorageOf(client.store),
    api,
    ...(chequebook ? { chequebook } : {}),
  })
  client.runtime.payers.set(url, payer)
  return payer
}
